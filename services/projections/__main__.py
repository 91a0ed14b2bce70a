"""`python -m services.projections`: serve the projections service."""

from services.common.serve import serve
from services.projections.main import SERVICE, create_app

serve(SERVICE, create_app)
