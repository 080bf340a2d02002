"""gunicorn as the containers run it (Dockerfile, docker-compose.yml): access log on stdout, paths redacted."""

from gunicorn.glogging import Logger

from config.redaction import redact

accesslog = "-"


class RedactingLogger(Logger):
    """The access log without the report token (config/redaction.py)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Every atom a format may name: the request line, path, referer, and the raw environ values.
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger
