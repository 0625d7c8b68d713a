"""Rules from the third precision audit (bench/realworld/precision-audit.md, round 3): false positives
found on public repositories outside the AI niche, each fixed as a general rule."""

from tests.unit.scanner_helpers import component, keys, scan_tree


def test_rust_use_of_a_module_the_file_declares_is_not_the_crate(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "x"\n\n[dependencies]\nasync-openai = "0.24"\n',
            "src/vendors/mod.rs": "pub mod openai;\npub mod anthropic;\npub use openai::Gpt;\n"
            "pub use anthropic::Claude;\n",
            "src/vendors/openai.rs": "use async_openai::Client;\npub struct Gpt(Client);\n",
            "src/vendors/anthropic.rs": "pub struct Claude;\n",
            "src/other.rs": "use anthropic::Client;\n",
        },
    )
    files = {loc.file for loc in component(result, "llm_provider:openai").locations}
    assert files == {"Cargo.toml", "src/vendors/openai.rs"}
    # a file that declares no such module still imports the crate
    assert {loc.file for loc in component(result, "llm_provider:anthropic").locations} == {"src/other.rs"}
    assert "llm_provider:anthropic" in keys(result)
