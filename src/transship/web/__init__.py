"""HTTP: the dashboard pages (and the screening API). `create_app()` in `web.app`."""
