import MIMEKit
import Hummingbird
import Crypto
import _CryptoExtras
public enum FakeGmailVersion { public static let value = 1 }
