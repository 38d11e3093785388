import _CryptoExtras

enum _RSAKeyFactory {
    static func make() throws -> String { try _RSA.Signing.PrivateKey(keySize: .bits2048).pkcs8PEMRepresentation }
}
