/// An API token as people and programs hold it: `orch_<id>_<secret>` — the prefix makes a
/// leaked token recognisable (secret scanners, logs), `<id>` (12 hex digits) names it in
/// `token list`, histories and logs, `<secret>` is 256 random bits as 64 hex digits. The
/// cluster keeps only the SHA-256 of the secret.
///
/// ```swift
/// let token = APIToken.generate()            // on the node that creates it
/// print(token.text)                          // orch_3f9a1c0b2d4e_9c1f…   (shown once)
/// APIToken(parsing: "orch_3f9a1c0b2d4e_9c1f…")?.id   // "3f9a1c0b2d4e"
/// ```
public struct APIToken: Sendable, Hashable {
    /// The public id: 12 lowercase hex digits.
    public let id: String
    /// The secret: 64 lowercase hex digits.
    public let secret: String

    public static let prefix = "orch_"
    public static let idHexDigits = 12
    public static let secretHexDigits = 64

    /// The token as it is written: `orch_<id>_<secret>`.
    public var text: String { APIToken.prefix + id + "_" + secret }

    /// Parses `orch_<id>_<secret>` (surrounding whitespace ignored); nil when malformed.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace
        guard trimmed.hasPrefix(APIToken.prefix) else { return nil }
        let parts = trimmed.dropFirst(APIToken.prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == APIToken.idHexDigits, parts[1].count == APIToken.secretHexDigits,
              parts[0].utf8.allSatisfy(APIToken.isLowerHex), parts[1].utf8.allSatisfy(APIToken.isLowerHex) else { return nil }
        id = String(parts[0])
        secret = String(parts[1])
    }

    /// A fresh token from `generator` (the system's cryptographic generator by default:
    /// `getrandom` on Linux).
    public static func generate<Generator: RandomNumberGenerator>(using generator: inout Generator) -> APIToken {
        func hex(_ count: Int) -> String {
            var digits: [UInt8] = []
            digits.reserveCapacity(count)
            while digits.count < count {
                var word = generator.next()
                for _ in 0..<16 where digits.count < count {
                    digits.append(APIToken.hexDigits[Int(word & 0xf)])
                    word >>= 4
                }
            }
            return String(decoding: digits, as: UTF8.self)
        }
        return APIToken(id: hex(idHexDigits), secret: hex(secretHexDigits))
    }

    /// A fresh token from the system's cryptographic random number generator.
    public static func generate() -> APIToken {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    private init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func isLowerHex(_ byte: UInt8) -> Bool { (48...57).contains(byte) || (97...102).contains(byte) }
}

extension String {
    fileprivate var trimmingWhitespace: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
