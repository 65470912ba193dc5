import Crypto

/// A backup ready to be sent or written: the header and metadata, the body (the engine
/// snapshot) and the SHA-256 over both, in the order they appear in the file
/// (`BackupFormat`). Kept in three parts so the body is streamed as it is, never copied into
/// one big buffer.
///
/// ```swift
/// let encoded = EncodedBackup(metadata: metadata, body: engineState.snapshot())
/// write(encoded.prefix); write(encoded.body); write(encoded.checksum)   // encoded.byteCount bytes
/// ```
public struct EncodedBackup: Sendable {
    /// The 48-byte header and the metadata JSON.
    public let prefix: [UInt8]
    /// The engine snapshot.
    public let body: [UInt8]
    /// SHA-256 over `prefix` and `body`: the file's last 32 bytes.
    public let checksum: [UInt8]
    /// The metadata written in `prefix`.
    public let metadata: BackupMetadata

    public init(metadata: BackupMetadata, body: [UInt8]) {
        let metadataBytes = metadata.encoded
        precondition(metadataBytes.count <= BackupFormat.metadataBytesMax,
                     "backup metadata of \(metadataBytes.count) bytes exceeds metadataBytesMax")
        precondition(UInt64(body.count) <= BackupFormat.bodyBytesMax, "backup body of \(body.count) bytes exceeds bodyBytesMax")
        var prefix = BackupFormat.header(metadataBytes: metadataBytes.count, bodyBytes: body.count)
        prefix.append(contentsOf: metadataBytes)
        var hasher = SHA256()
        hasher.update(data: prefix)
        hasher.update(data: body)
        self.prefix = prefix
        self.body = body
        self.checksum = Array(hasher.finalize())
        self.metadata = metadata
    }

    /// The whole file's length.
    public var byteCount: Int { prefix.count + body.count + checksum.count }

    /// The trailing checksum as `sha256sum` would print the file's content digest.
    public var sha256: String { BackupFormat.hex(checksum) }

    /// The whole file in one array (tests, small states).
    public var bytes: [UInt8] { prefix + body + checksum }
}

/// A backup file whose header, lengths and SHA-256 were checked, and its metadata.
public struct VerifiedBackup: Sendable, Hashable {
    /// The file's format version.
    public let formatVersion: UInt32
    /// The whole file's length.
    public let fileBytes: UInt64
    /// The trailing SHA-256 (which matched the content), hex.
    public let sha256: String
    /// The engine snapshot's length.
    public let bodyBytes: UInt64
    public let metadata: BackupMetadata
}

/// Reads and checks backup files: the one decoder behind `snapshot save` (which reads back
/// what it wrote before renaming it into place), `inspect` and `restore`.
///
/// Checks, in order, each failure a `BackupFileError`: the magic; the header's own digest;
/// the version and flags; the limits on the lengths; that the file is exactly as long as the
/// header says (`truncated` naming the part it ends in, or `trailingBytes`); the trailing
/// SHA-256 over everything before it; the metadata. Nothing is believed before the check
/// that covers it, so damage is reported, never trapped on.
public enum BackupReader {
    /// Bytes hashed per read of a file.
    static let chunkBytes = 1 << 20

    /// Checks `bytes` as a whole file; returns what it says and the engine snapshot.
    public static func read(bytes: [UInt8]) throws(BackupFileError) -> (backup: VerifiedBackup, body: [UInt8]) {
        let (backup, body) = try read(BytesSource(bytes), keepBody: true)
        return (backup, body ?? [])
    }

    /// Checks the file at `path` without keeping the body in memory (`snapshot inspect`).
    public static func verify(path: String) throws(BackupFileError) -> VerifiedBackup {
        try read(try FileSource(path: path), keepBody: false).backup
    }

    /// Checks the file at `path` and returns its engine snapshot, read in the same pass that
    /// checks the digest (so what is returned is what was checked).
    public static func read(path: String) throws(BackupFileError) -> (backup: VerifiedBackup, body: [UInt8]) {
        let (backup, body) = try read(try FileSource(path: path), keepBody: true)
        return (backup, body ?? [])
    }

    static func read(_ source: some ByteSource, keepBody: Bool) throws(BackupFileError) -> (backup: VerifiedBackup, body: [UInt8]?) {
        let size = source.size
        let headerBytes = UInt64(BackupFormat.headerBytes)
        let head = try source.read(at: 0, count: Int(min(size, headerBytes)))[...]
        // A short file that is not even the start of a backup is "not ours", not "truncated".
        let magicSeen = min(head.count, BackupFormat.magic.count)
        guard head.prefix(magicSeen).elementsEqual(BackupFormat.magic.prefix(magicSeen)) else { throw .badMagic }
        guard size >= headerBytes else { throw .truncated(part: "header", fileBytes: size, expectedBytes: headerBytes) }
        guard BackupFormat.headerDigest(head.prefix(BackupFormat.headerDigestedBytes))
            .elementsEqual(head[BackupFormat.headerDigestedBytes..<BackupFormat.headerBytes]) else {
            throw .headerChecksumMismatch
        }
        let version = head.littleEndianU32(at: 8)
        guard version == BackupFormat.version else { throw .unsupportedVersion(found: version, supported: BackupFormat.version) }
        let flags = head.littleEndianU32(at: 12)
        guard flags == 0 else { throw .badMetadata("header flags 0x\(String(flags, radix: 16)) are not defined in version 1") }
        let metadataBytes = head.littleEndianU64(at: 16)
        let bodyBytes = head.littleEndianU64(at: 24)
        guard metadataBytes <= UInt64(BackupFormat.metadataBytesMax) else {
            throw .tooLarge(part: "metadata", bytes: metadataBytes, max: UInt64(BackupFormat.metadataBytesMax))
        }
        guard bodyBytes <= BackupFormat.bodyBytesMax else {
            throw .tooLarge(part: "body", bytes: bodyBytes, max: BackupFormat.bodyBytesMax)
        }
        let bodyOffset = headerBytes + metadataBytes
        let checksumOffset = bodyOffset + bodyBytes
        let expected = checksumOffset + UInt64(BackupFormat.checksumBytes)
        guard size >= expected else {
            let part = size < bodyOffset ? "metadata" : size < checksumOffset ? "body" : "checksum"
            throw .truncated(part: part, fileBytes: size, expectedBytes: expected)
        }
        guard size == expected else { throw .trailingBytes(fileBytes: size, expectedBytes: expected) }

        var hasher = SHA256()
        hasher.update(data: Array(head))
        let metadata = try source.read(at: headerBytes, count: Int(metadataBytes))
        hasher.update(data: metadata)
        var body: [UInt8]? = nil
        if keepBody { body = []; body!.reserveCapacity(Int(bodyBytes)) }
        var offset = bodyOffset
        while offset < checksumOffset {
            let chunk = try source.read(at: offset, count: Int(min(UInt64(chunkBytes), checksumOffset - offset)))
            guard !chunk.isEmpty else { throw .truncated(part: "body", fileBytes: offset, expectedBytes: expected) }
            hasher.update(data: chunk)
            body?.append(contentsOf: chunk)
            offset += UInt64(chunk.count)
        }
        let stored = try source.read(at: checksumOffset, count: BackupFormat.checksumBytes)
        let computed = Array(hasher.finalize())
        guard stored == computed else {
            throw .checksumMismatch(stored: BackupFormat.hex(stored), computed: BackupFormat.hex(computed))
        }
        let decoded = try BackupMetadata(decoding: metadata[...])
        let backup = VerifiedBackup(formatVersion: version, fileBytes: size, sha256: BackupFormat.hex(stored),
                                    bodyBytes: bodyBytes, metadata: decoded)
        return (backup, body)
    }
}
