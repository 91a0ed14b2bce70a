"""`python -m services.notifications`: serve the notifications service."""

from services.common.serve import serve
from services.notifications.main import SERVICE, create_app

serve(SERVICE, create_app)
