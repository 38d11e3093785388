// Sync scenarios (Fixtures/history replayed against FakeGmail, in-process and live) arrive with the
// sync issue. Intentionally no placeholder test here.
import FakeGmail
import GmailCapture
import Testing
