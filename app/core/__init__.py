"""Cross-cutting pieces every domain uses: errors, money, time, pagination, security, i18n, media."""
