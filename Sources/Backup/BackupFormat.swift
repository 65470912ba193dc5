import Crypto

/// The backup file of `orchestrator snapshot save` (format version 1, docs/operations.md,
/// "Backup and restore"). All integers are little-endian.
///
/// ```
/// offset      bytes  field
/// 0           8      magic "ORCHBKUP"
/// 8           4      format version u32 (1)
/// 12          4      flags u32 (0; reserved)
/// 16          8      metadata length M u64 (at most metadataBytesMax)
/// 24          8      body length B u64 (at most bodyBytesMax)
/// 32          16     header digest: the first 16 bytes of SHA-256 over bytes 0 ..< 32
/// 48          M      metadata: one JSON object, UTF-8, keys sorted (`BackupMetadata`)
/// 48+M        B      body: the engine snapshot (`EngineState.snapshot()`, "OENG"…)
/// 48+M+B      32     SHA-256 over bytes 0 ..< 48+M+B
/// ```
///
/// The 48-byte header keeps this layout in every version, so any reader can tell which
/// version a file is, and its own digest means a damaged length is reported as damage, not
/// as a truncated file. The trailing SHA-256 covers everything before it: one flipped byte
/// anywhere after the magic is a checksum error (a flipped magic byte says the file is not
/// ours at all). Metadata may gain keys without a new version; readers ignore keys they do
/// not know.
public enum BackupFormat {
    /// The first 8 bytes of every backup file.
    public static let magic: [UInt8] = Array("ORCHBKUP".utf8)
    /// The format version this build writes and reads.
    public static let version: UInt32 = 1
    /// The fixed header's length.
    public static let headerBytes = 48
    /// The bytes of the header the header digest covers.
    static let headerDigestedBytes = 32
    /// The header digest's length (a prefix of SHA-256).
    static let headerDigestBytes = 16
    /// The trailing SHA-256's length.
    public static let checksumBytes = 32
    /// Largest metadata accepted: 1 MiB (a few hundred members' addresses fit in a few KiB).
    public static let metadataBytesMax = 1 << 20
    /// Largest body accepted: 4 GiB, the largest snapshot the log store reads back
    /// (`StorageOptions.defaultSnapshotBytesMax`), so whatever is saved can be restored.
    public static let bodyBytesMax: UInt64 = 4 << 30

    /// The 48-byte header for metadata and a body of these lengths.
    static func header(metadataBytes: Int, bodyBytes: Int) -> [UInt8] {
        var bytes = magic
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(UInt32(0))
        bytes.appendLittleEndian(UInt64(metadataBytes))
        bytes.appendLittleEndian(UInt64(bodyBytes))
        bytes.append(contentsOf: headerDigest(bytes))
        precondition(bytes.count == headerBytes, "backup header is \(bytes.count) bytes, not \(headerBytes)")
        return bytes
    }

    /// The first 16 bytes of SHA-256 over the first 32 header bytes.
    static func headerDigest(_ firstBytes: some Collection<UInt8>) -> [UInt8] {
        precondition(firstBytes.count == headerDigestedBytes)
        return Array(SHA256.hash(data: Array(firstBytes)).prefix(headerDigestBytes))
    }

    /// Lowercase hex, the way `sha256sum` prints a digest.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension [UInt8] {
    mutating func appendLittleEndian(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func appendLittleEndian(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

extension ArraySlice<UInt8> {
    func littleEndianU32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(self[startIndex + offset + $1]) << UInt32(8 * $1) }
    }

    func littleEndianU64(at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(self[startIndex + offset + $1]) << UInt64(8 * $1) }
    }
}
