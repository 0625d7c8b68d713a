"""The framework's ceiling for bench_api.py: a bare Flask endpoint returning a 20-item JSON page, served by
the same gunicorn command as the API, so every API figure can be read as a ratio to it."""

from flask import Flask

app = Flask(__name__)
PAGE = {
    "items": [
        {"id": f"item-{index}", "name": f"component-{index}", "risk_score": index} for index in range(20)
    ],
    "page": 1,
    "per_page": 20,
    "total": 10_000,
}


@app.get("/page")
def page():
    return PAGE
