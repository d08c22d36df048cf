"""Web layer: FastAPI app (create_app in app.py) with the screening API and dashboard."""
