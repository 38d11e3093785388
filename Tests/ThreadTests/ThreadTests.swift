// Cross-teammate threading tests arrive with the storage/threads issue (chains, forks, missing and
// duplicated Message-IDs, every sync order). Intentionally no placeholder test here.
import GmailCapture
import Testing
