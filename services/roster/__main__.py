"""`python -m services.roster`: serve the roster service."""

from services.common.serve import serve
from services.roster.main import SERVICE, create_app

serve(SERVICE, create_app)
