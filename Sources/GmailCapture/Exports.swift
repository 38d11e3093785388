// GmailCapture re-exports its pure parsing core and the MIME module, so `import GmailCapture` is enough.
@_exported import CaptureParsing
@_exported import MIMEKit
