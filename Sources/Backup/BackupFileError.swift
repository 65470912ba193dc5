/// Why a backup file was refused, said in one line a person can act on. The CLI prints it as
/// `error: FILE: <description>` and exits 2.
public enum BackupFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file cannot be opened, read or written.
    case io(operation: String, path: String, reason: String)
    /// The file ends inside the part named (`header`, `metadata`, `body` or `checksum`);
    /// `expectedBytes` is the header's length for `header`, else the whole file's.
    case truncated(part: String, fileBytes: UInt64, expectedBytes: UInt64)
    /// The file does not start with `ORCHBKUP`: not an orchestrator backup.
    case badMagic
    /// The header's own digest does not match: the header was damaged.
    case headerChecksumMismatch
    /// A version this build cannot read (an intact header, from another build).
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// The header names a part larger than its limit.
    case tooLarge(part: String, bytes: UInt64, max: UInt64)
    /// Bytes follow the checksum: the file is longer than its header says.
    case trailingBytes(fileBytes: UInt64, expectedBytes: UInt64)
    /// The trailing SHA-256 does not match the content: the file was damaged.
    case checksumMismatch(stored: String, computed: String)
    /// The checksum matched but the metadata is not what this format requires.
    case badMetadata(String)

    public var description: String {
        switch self {
        case .io(let operation, let path, let reason):
            return "cannot \(operation) \(path): \(reason)"
        case .truncated(let part, let fileBytes, let expectedBytes):
            let whole = part == "header" ? "the header alone is \(expectedBytes) bytes" : "a complete file is \(expectedBytes) bytes"
            return "truncated: the file is \(fileBytes) bytes and ends inside its \(part) (\(whole))"
        case .badMagic:
            return "not an orchestrator snapshot file (it does not start with \"ORCHBKUP\")"
        case .headerChecksumMismatch:
            return "header checksum mismatch: the file's header is damaged"
        case .unsupportedVersion(let found, let supported):
            return "snapshot format version \(found) is not supported; this build reads version \(supported)"
        case .tooLarge(let part, let bytes, let max):
            return "the header says the \(part) is \(bytes) bytes, more than the limit of \(max)"
        case .trailingBytes(let fileBytes, let expectedBytes):
            return "\(fileBytes - expectedBytes) unexpected bytes after the checksum (the file is \(fileBytes) bytes, its header says \(expectedBytes))"
        case .checksumMismatch(let stored, let computed):
            return "checksum mismatch: the file says sha256 \(stored), its content hashes to \(computed); the file is damaged"
        case .badMetadata(let reason):
            return "unreadable metadata: \(reason)"
        }
    }
}
