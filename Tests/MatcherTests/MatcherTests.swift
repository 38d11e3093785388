// Investor matching tests arrive with the storage/matching issue (exact, alias, domain rules, freemail
// guard, subdomains, internal-only mail, rematch). Intentionally no placeholder test here.
import GmailCapture
import Testing
