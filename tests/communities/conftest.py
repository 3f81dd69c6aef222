from tests.social.conftest import card_template_standins  # noqa: F401  (same stand-ins for the community page)
