"""`python -m services.booking`: serve the booking service."""

from services.booking.main import SERVICE, create_app
from services.common.serve import serve

serve(SERVICE, create_app)
