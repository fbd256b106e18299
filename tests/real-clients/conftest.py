"""Fixtures for running Google's own Python clients against the Sheets emulator.

`run.sh` starts the emulator and exports SHEETS_EMULATOR_URL and SHEETS_EMULATOR_KEY_FILE (a
service-account key file whose token_uri points at the emulator). The clients are used as a
user would, configured only through their public options:

- google-auth reads the key file and fetches tokens from its token_uri;
- google-api-python-client uses its bundled discovery document with `api_endpoint`;
- gspread hard-codes Google's hosts, so its requests session rewrites them to the emulator.
"""

import os
import urllib.parse

import google.auth.transport.requests
import gspread
import pytest
import requests
from google.oauth2 import service_account
from googleapiclient.discovery import build

SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
# Hosts gspread sends requests to: the Sheets API and the Drive API (which the emulator lacks).
GOOGLE_HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")


def _environment(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests with tests/real-clients/run.sh", pytrace=False)
    return value


@pytest.fixture(scope="session")
def base_url():
    """The emulator's base URL, e.g. http://127.0.0.1:PORT (no trailing slash)."""
    return _environment("SHEETS_EMULATOR_URL").rstrip("/")


@pytest.fixture(scope="session")
def key_file():
    """Path of the service-account key file the emulator generated."""
    return _environment("SHEETS_EMULATOR_KEY_FILE")


@pytest.fixture(scope="session")
def credentials(key_file):
    return service_account.Credentials.from_service_account_file(key_file, scopes=[SPREADSHEETS_SCOPE])


def build_sheets(base_url, credentials):
    """A googleapiclient Sheets v4 service talking to the emulator."""
    return build(
        "sheets",
        "v4",
        credentials=credentials,
        static_discovery=True,
        client_options={"api_endpoint": base_url},
        cache_discovery=False,
    )


@pytest.fixture(scope="session")
def sheets(base_url, credentials):
    return build_sheets(base_url, credentials)


class _RedirectToEmulator(requests.adapters.HTTPAdapter):
    """Sends requests meant for Google's API hosts to the emulator (same path and query)."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url

    def send(self, request, *args, **kwargs):
        for host in GOOGLE_HOSTS:
            if request.url.startswith(host + "/"):
                request.url = self.base_url + request.url[len(host):]
                break
        return super().send(request, *args, **kwargs)


@pytest.fixture(scope="session")
def gspread_client(base_url, credentials):
    """A gspread client whose Google-bound requests reach the emulator."""
    session = google.auth.transport.requests.AuthorizedSession(credentials)
    adapter = _RedirectToEmulator(base_url)
    for host in GOOGLE_HOSTS:
        session.mount(host + "/", adapter)
    return gspread.Client(auth=credentials, session=session)


class Admin:
    """The emulator's admin API under /_emulator/ (quota, faults, latency, request log)."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def _call(self, method, path, **kwargs):
        response = self.session.request(method, f"{self.base_url}/_emulator/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def get(self, path, **params):
        return self._call("GET", path, params=params)

    def put(self, path, body):
        return self._call("PUT", path, json=body)

    def post(self, path, body=None):
        return self._call("POST", path, json=body)

    def delete(self, path):
        return self._call("DELETE", path)

    def reset(self):
        """Unlimited quota, no faults, no latency, empty request log."""
        self.post("reset")

    def set_quota(self, read=None, write=None, window_ms=60000):
        return self.put(
            "quota",
            {"read_requests_per_minute": read, "write_requests_per_minute": write, "window_ms": window_ms},
        )

    def add_fault(self, status=503, stage="before", request_class="all", count=None, probability=None, seed=0):
        body = {"status": status, "stage": stage, "class": request_class, "seed": seed}
        if count is not None:
            body["count"] = count
        if probability is not None:
            body["probability"] = probability
        return self.post("faults", body)

    def requests(self, since=None, **filters):
        params = dict(filters)
        if since is not None:
            params["since"] = since
        return self.get("requests", **params)["requests"]

    def last_seq(self):
        return self.get("requests")["last_seq"]

    def summary(self):
        return self.get("summary")


@pytest.fixture(scope="session")
def admin(base_url):
    return Admin(base_url)


@pytest.fixture(autouse=True)
def _fresh_control_plane(admin):
    """Each test starts and ends with default quota, no faults, no latency and an empty log."""
    admin.reset()
    yield
    admin.reset()


def url(base_url, path, **query):
    """An emulator URL with a quoted path and an optional query."""
    suffix = "?" + urllib.parse.urlencode(query) if query else ""
    return f"{base_url}{path}{suffix}"
