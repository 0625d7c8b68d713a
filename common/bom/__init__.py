"""Views over a scan's bill of materials: the dependency graph and scan-to-scan comparison."""
