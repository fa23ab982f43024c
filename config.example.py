# ssp configuration: every setting, with its default and what it is for.
#
# Copy this file to instance/config.py (`ssp quickstart` writes one for you with a fresh
# SECRET_KEY), or point SSP_CONFIG at a file of your choice. Any setting can also come from
# the environment as SSP_<NAME>, which wins over the file: for example
#   SSP_SECRET_KEY=...  SSP_SQLALCHEMY_DATABASE_URI=postgresql://...  SSP_DEBUG=false
# Environment values are read as JSON when they parse (numbers, true/false, lists), else
# as plain strings.

# --- Essentials -----------------------------------------------------------------------

# Signs the session cookie and CSRF tokens. Required outside debug/testing: the app refuses
# to start with the built-in placeholder. Make one with:
#   python -c 'import secrets; print(secrets.token_hex(32))'
# Changing it signs everyone out.
SECRET_KEY = ""  # empty: the app refuses to start until you set one

# Where the data lives. Unset: an SQLite file `ssp.sqlite3` in the instance folder (WAL
# mode, busy timeout, foreign keys on). For PostgreSQL (psycopg 3 is installed; a plain
# postgresql:// URL is pointed at it automatically):
# SQLALCHEMY_DATABASE_URI = "postgresql://ssp:password@127.0.0.1:5432/ssp"
SQLALCHEMY_DATABASE_URI = None

# Extra engine options passed to SQLAlchemy (pool sizes for PostgreSQL, for example).
# hide_parameters keeps query values (codes, notes) out of logged database errors.
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}

# The program's name, shown in the page header and on reports (never on wallet cards).
PROGRAM_NAME = "Syringe services program"

# The title printed on participants' wallet cards, above the code. A card travels in a
# pocket: a program name on it can out the person carrying it to whoever finds it (police,
# family, an employer). Empty (the default) prints no title, only the code and its QR
# code; or choose a short neutral name that means nothing to a stranger, for example
# CARD_TITLE = "Harbor Wellness". The card prints PROGRAM_NAME only if you set it here.
CARD_TITLE = ""

# The program's time zone (IANA name). Times are stored in UTC; this decides the day and
# month a visit belongs to, on screens and in reports.
TIMEZONE = "America/Los_Angeles"

# The program's language: "en" (English) or "es" (Spanish). Each person can pick their own
# in their account (else their browser's choice is used); this one is for everyone else,
# for commands (unless SSP_LANGUAGE or LANG names another) and for the names of the
# supplies and services `ssp db upgrade` creates on a new database.
LANGUAGE = "en"

# Folder where generated reports are archived. Unset: reports/ beside the instance folder.
REPORTS_DIR = None

# The program's minimum suppression threshold: no funder profile may go below it. Every
# report is audited together with the archived reports it overlaps, whatever their
# thresholds; lower this only as a deliberate program decision.
MIN_SUPPRESSION_THRESHOLD = 11

# The evaluator export (`ssp export`, Reports > Data for evaluators): line-level data made
# k-anonymous. Every combination of its quasi-identifiers (period, site or kind, age band,
# gender...) is shared by at least this many different people; rows that cannot be made
# so are coarsened, then left out (docs/evaluator-export.md). At least 2; 11 matches the
# reports' small-count rule.
EXPORT_MIN_GROUP_SIZE = 11

# Importing spreadsheets (`ssp import run`, Admin > Import; docs/importing.md): the
# largest file the page takes, the most contacts one daily tally line may count (a line
# of N contacts becomes N anonymous visits), and how many hours an uploaded file that was
# never imported is kept before it is deleted (it holds participant codes).
IMPORT_MAX_BYTES = 64 * 1024 * 1024
IMPORT_TALLY_CONTACTS_MAX = 2000
IMPORT_UPLOAD_KEEP_HOURS = 24

# Drug checking and community alerts (docs/drug-checking.md). Results never name a
# person unless this is True (then the result form may carry the participant of a visit).
DRUG_CHECK_LINK_PARTICIPANTS = False
# The signal rule: a finding is a signal when, over the last DAYS days, at least
# MIN_POSITIVES samples sold as one thing tested positive for it and its share of the
# samples tested rose by at least RISE (0.25 = 25 percentage points) against the 4 x DAYS
# days before.
DRUG_CHECK_SIGNAL_DAYS = 7
DRUG_CHECK_SIGNAL_MIN_POSITIVES = 3
DRUG_CHECK_SIGNAL_RISE = 0.25
# Where an alert flyer's QR code points (the program's public page); None prints none.
ALERT_PUBLIC_URL = None
# How many days a drafted alert runs by default.
ALERT_DAYS = 14
# The standard advice an alert can carry, by key (the flyer prints the texts in order).
ALERT_ADVICE = {
    "use_with_someone": "Use with someone, or call a never-use-alone line.",
    "start_low": "Start low and go slow: try a small amount first.",
    "carry_naloxone": "Carry naloxone and know how to use it. Free kits here.",
    "test_first": "Test before you use: free test strips here.",
    "xylazine_wounds": "Xylazine can cause wounds: come to us for wound care early.",
    "xylazine_breathing": "Naloxone still helps: give it, then rescue breaths.",
}

# --- Participants and the front desk ---------------------------------------------------

# The anonymous code: the ordered parts the enrol form's code builder asks for. Each part
# has a label (the question staff ask), a kind and how many characters it takes:
#   letters  first N letters of the answer (accents dropped; padded with X if short)
#   digits   first N digits of the answer
#   day      two-digit day of birth (01-31)       month   two-digit month (01-12)
#   year     last N digits of a four-digit year
# Gender is deliberately not a kind: a person's gender may change, their code must not.
# The answers never leave the browser; only the finished code is sent and stored.
# None means the default below: MA + PH + 06 + 87 = MAPH0687.
PARTICIPANT_CODE_SCHEME = None
# PARTICIPANT_CODE_SCHEME = [
#     {"label": "Mother's first name", "kind": "letters", "take": 2},
#     {"label": "City or town where they were born", "kind": "letters", "take": 2},
#     {"label": "Day of birth", "kind": "day"},
#     {"label": "Year of birth", "kind": "year", "take": 2},
# ]

# Shortest text the search box treats as part of a code (shorter: exact match only).
PARTIAL_SEARCH_MIN_LENGTH = 2

# Most matches listed for a partial code.
SEARCH_RESULTS_LIMIT = 20

# How far back a visit may be dated (paper logs), in days. Back-dated visits are audited.
VISIT_BACKDATE_DAYS = 30

# Most units of one item a single visit may hand out (a typo guard; each catalogue item
# can set its own maximum instead).
VISIT_ITEM_MAX = 1000

# Most times one service can be counted on a visit.
VISIT_SERVICE_MAX = 50

# Most used syringes collected on one visit.
VISIT_SYRINGES_COLLECTED_MAX = 20000

# Most people reached through secondary distribution on one visit.
VISIT_SECONDARY_REACH_MAX = 200

# The visit form shows syringes, used syringes collected, naloxone and test strips first.
# Any other supply category that fewer than this share of a site's visits used over the
# last VISIT_FORM_USAGE_DAYS days is folded on that site's form (one click or Space
# opens it; a category with a value or an error is never folded). A site with fewer
# than 30 visits in that time folds nothing.
VISIT_FORM_FOLD_SHARE = 0.05
VISIT_FORM_USAGE_DAYS = 90

# --- Referrals and follow-ups ------------------------------------------------------------

# Days after a referral that its follow-up falls due, per referral category. Categories:
# moud, sud_treatment, hiv_care, hcv_treatment, prep, mental_health, housing,
# primary_care, wound_care, benefits, other. Unlisted ones use FOLLOW_UP_DEFAULT_DAYS.
# "Still waiting" outcomes move the due date on by the same number of days.
FOLLOW_UP_DAYS = {}
# FOLLOW_UP_DAYS = {"moud": 3, "housing": 14}
FOLLOW_UP_DEFAULT_DAYS = 7

# An open follow-up closes as "could not reach" once more than this many days have passed
# both since it was due and since the person's last visit (a "still waiting" answer moves
# the due date, so it starts the count again). `ssp close-stale-follow-ups`, run daily
# from cron, closes them; saving a referral or a follow-up does too. Each one closed is
# audited. 0 turns automatic closing off.
FOLLOW_UP_CLOSE_AFTER_DAYS = 60

# Follow-ups per page on the worklist.
WORKLIST_PAGE_SIZE = 25

# Referrals per page on the referrals list (managers and admins).
REFERRALS_PAGE_SIZE = 50

# --- Stock ------------------------------------------------------------------------------

# Movements per page on the stock ledger.
LEDGER_PAGE_SIZE = 50

# Low-stock warnings come from each site's own use, not from a fixed number per item: a
# line is flagged when what is on hand will not last until an order placed today arrives,
# with a margin to spare. Whole days, all of them.
#
# Use is the site's average daily use of the item over this many days (what visits handed
# out, net of voids and corrections). 90 days smooths a busy week or a month-end rush and
# still follows a change (a new site, a season, a supply that catches on) within weeks. A
# site or item newer than this is averaged over its own time (at least 14 days).
STOCK_USE_WINDOW_DAYS = 90

# Days from placing an order (or asking the health department or a buyers' club) to the
# boxes being on the shelf. Set it to your slowest regular supplier.
STOCK_LEAD_TIME_DAYS = 14

# Days of use to still have when the order arrives: a late delivery, a surge (an overdose
# cluster empties the naloxone shelf), a miscount. A line is low when on hand is under
# daily use x (STOCK_LEAD_TIME_DAYS + STOCK_SAFETY_DAYS).
STOCK_SAFETY_DAYS = 7

# How often you order. The suggested order is enough for lead time + safety + one cycle of
# use, less what is on hand, rounded up to whole packs (the catalogue's units per pack).
STOCK_ORDER_CYCLE_DAYS = 30

# Events per page on the audit trail (admin).
AUDIT_PAGE_SIZE = 50

# --- Sign-in and passwords ------------------------------------------------------------

# Shortest password accepted for a staff account.
PASSWORD_MIN_LENGTH = 12

# argon2id cost (memory-hard hashing). The defaults are RFC 9106's second recommended
# profile: 3 passes over 64 MiB with 4 lanes. Raise them on a fast server; existing
# hashes are upgraded at the next sign-in.
PASSWORD_HASH_TIME_COST = 3
PASSWORD_HASH_MEMORY_KIB = 65536
PASSWORD_HASH_PARALLELISM = 4

# After this many wrong passwords for one account from one address within
# LOGIN_LOCKOUT_MINUTES, that address cannot try that account until the oldest ages out
# (kept in the database, so it holds across server processes). The same person at
# another desk still signs in. An admin can clear it early (Unlock).
LOGIN_MAX_FAILURES = 10
LOGIN_LOCKOUT_MINUTES = 15
# Across all addresses, an account takes at most this many wrong passwords an hour from
# addresses it has not signed in from in the last 30 days.
LOGIN_ACCOUNT_FAILURES_PER_HOUR = 60

# Roles that must use two-step sign-in (an authenticator app) before they can use the
# app; the others may turn it on under Account. [] asks nobody (not advised).
REQUIRE_TWO_STEP_ROLES = ["admin", "manager"]

# Passkeys work over HTTPS (or on http://localhost). Behind a proxy that does not pass
# the public host on (see PROXY_FIX_X_HOST), name it here, e.g. "ssp.example.org" and
# "https://ssp.example.org". None: the host and origin of each request.
WEBAUTHN_RP_ID = None
WEBAUTHN_ORIGIN = None

# Sign-in attempts allowed per client address (Flask-Limiter syntax).
SIGN_IN_RATE_LIMIT = "20 per minute"

# Where the rate limiter keeps its counters. memory:// is per process; with several
# server processes use a shared store, e.g. "redis://127.0.0.1:6379".
RATELIMIT_STORAGE_URI = "memory://"

# Switch the rate limiter off (tests do; production should not).
RATELIMIT_ENABLED = True

# Send X-RateLimit-* headers with responses.
RATELIMIT_HEADERS_ENABLED = False

# --- Sessions and cookies -------------------------------------------------------------

# Desk computers are shared: a session with no activity for this many minutes is signed
# out (a warning with a "stay signed in" button shows a minute before).
IDLE_TIMEOUT_MINUTES = 15

# However active, a session ends after this many hours; the person signs in again.
SESSION_MAX_HOURS = 12

# Staff admin pages, report downloads and the audit trail ask for the password again when
# it was last typed more than this many minutes ago.
RECENT_SIGN_IN_MINUTES = 10

# Session cookies are out of reach of scripts and not sent on cross-site requests.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# The session cookie is marked Secure on every request that arrives over HTTPS (set
# PROXY_FIX_X_PROTO behind a proxy). Set True to mark it Secure always.
SESSION_COOKIE_SECURE = False

# No "remember me" cookie: desk computers are shared.
REMEMBER_COOKIE_DURATION = 0

# Longest a session lasts, in seconds, however active it is (12 hours).
PERMANENT_SESSION_LIFETIME = 43200

# Largest request body accepted, in bytes; bigger requests get a 413 page.
MAX_CONTENT_LENGTH = 2097152

# CSRF tokens live as long as the session (None) rather than expiring mid-shift.
WTF_CSRF_TIME_LIMIT = None

# --- Backups ---------------------------------------------------------------------------

# `ssp backup PATH` encrypts the copy (age, X25519) to these public keys; only the
# matching key file opens it (`ssp restore PATH --identity KEYFILE`). Make a key with
# `ssp backup-key /path/to/ssp-backup.key`, best on another computer: it prints the
# public key to put here. Keep the key file off this server, with a second copy offline:
# a lost key file means its backups cannot be restored by anyone. A list of keys (each
# person or place that may restore), or the path of a file with one key a line:
# BACKUP_RECIPIENTS = ["age1..."]
# BACKUP_RECIPIENTS = "/etc/ssp/backup-recipients.txt"
# Empty: `ssp backup` refuses, unless it is given --unencrypted.
BACKUP_RECIPIENTS = []

# --- Behind a reverse proxy -----------------------------------------------------------

# How many proxies in front of the app to trust for X-Forwarded-For, -Proto and -Host.
# With one nginx or Caddy in front that terminates HTTPS, set all three to 1, so that the
# app sees the client's address (audit trail, rate limiting) and knows it is on HTTPS.
# Leave at 0 when nothing sits in front: the headers would then be spoofable.
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_PROTO = 0
PROXY_FIX_X_HOST = 0

# --- Development -------------------------------------------------------------------

# Debug mode shows tracebacks in the browser. Never in production.
DEBUG = False
