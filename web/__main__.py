"""`python -m web`: serve the web pages on the contract's port (8000, or APPOINTMENTS_WEB_PORT)."""

from services.common.serve import serve
from web.app import SERVICE, create_app

serve(SERVICE, create_app)
