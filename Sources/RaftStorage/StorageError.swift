/// Why a store refused to open or an operation failed. Each case names the file (and
/// offset, where there is one) and what is wrong, so an operator can act on it.
public enum StorageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// A record that is not the torn tail of the newest segment fails its checksum or
    /// does not parse: committed data may be damaged, so the store refuses to start.
    case corruptRecord(file: String, offset: UInt64, reason: String)
    /// A segment file's header is damaged or not a segment of this format.
    case badSegmentHeader(file: String, reason: String)
    /// A file written by a newer (or unknown) format version.
    case unsupportedFormatVersion(file: String, version: UInt32, supported: UInt32)
    /// A segment that must exist does not (sequence gap, or the log starts after the
    /// compaction point).
    case missingSegment(file: String, reason: String)
    /// An entry does not follow its predecessor (index jumps ahead).
    case indexGap(file: String, offset: UInt64, expected: UInt64, found: UInt64)
    /// An entry's term is lower than its predecessor's.
    case termRegression(file: String, offset: UInt64, index: UInt64, term: UInt64, previousTerm: UInt64)
    /// A recovered invariant does not hold (e.g. commit beyond the last entry).
    case invariantViolated(file: String, reason: String)
    /// A snapshot file fails its checksum or does not parse (when read on demand).
    case snapshotCorrupt(file: String, reason: String)
    /// Snapshot files exist but none of them is intact: refusing to start.
    case noValidSnapshot(files: [String])
    /// The newest intact snapshot and the log do not meet (entries in between are gone).
    case snapshotLogGap(file: String, snapshotIndex: UInt64, logFirstIndex: UInt64)
    /// `saveSnapshot` / `installSnapshot` with an index not newer than the latest snapshot.
    case snapshotOutOfDate(index: UInt64, latest: UInt64)
    /// The requested entries were compacted away (send a snapshot instead).
    case compacted(index: UInt64, firstIndex: UInt64)
    /// A named limit from `StorageOptions` was exceeded.
    case limitExceeded(limit: String, value: Int, max: Int)
    /// An earlier write or sync failed; durability is unknown, so the store refuses all
    /// further work. Reopen it (recovery decides what survived).
    case poisoned(cause: String)
    /// Another process holds the directory's lock.
    case locked(path: String)
    /// `MemoryLogStore.failNextSave()` fired: models a crash in the middle of a write.
    case injectedCrash

    public var description: String {
        switch self {
        case let .io(operation, path, errno):
            return "\(path): \(operation) failed: \(errnoDescription(errno)) (errno \(errno))"
        case let .corruptRecord(file, offset, reason):
            return "\(file) at offset \(offset): corrupt record (\(reason)); it is followed by intact data, so this is not a torn write: refusing to start rather than drop committed entries. Restore this node from a peer (remove its data directory and re-add it)."
        case let .badSegmentHeader(file, reason):
            return "\(file): bad segment header (\(reason))"
        case let .unsupportedFormatVersion(file, version, supported):
            return "\(file): format version \(version) is not supported (this build reads version \(supported)); use a newer orchestrator"
        case let .missingSegment(file, reason):
            return "\(file): missing segment: \(reason)"
        case let .indexGap(file, offset, expected, found):
            return "\(file) at offset \(offset): index gap: expected entry \(expected) or lower, found \(found)"
        case let .termRegression(file, offset, index, term, previousTerm):
            return "\(file) at offset \(offset): entry \(index) has term \(term), lower than the previous entry's term \(previousTerm)"
        case let .invariantViolated(file, reason):
            return "\(file): recovered state violates an invariant: \(reason)"
        case let .snapshotCorrupt(file, reason):
            return "\(file): corrupt snapshot (\(reason))"
        case let .noValidSnapshot(files):
            return "no intact snapshot: \(files.joined(separator: ", ")) all failed validation; refusing to start (the log was compacted, so without a snapshot state would be lost)"
        case let .snapshotLogGap(file, snapshotIndex, logFirstIndex):
            return "\(file): snapshot ends at index \(snapshotIndex) but the log starts at \(logFirstIndex): entries in between are gone"
        case let .snapshotOutOfDate(index, latest):
            return "snapshot at index \(index) is not newer than the latest snapshot at index \(latest)"
        case let .compacted(index, firstIndex):
            return "entry \(index) was compacted (first index is \(firstIndex)); send a snapshot"
        case let .limitExceeded(limit, value, max):
            return "\(limit) exceeded: \(value) > \(max)"
        case let .poisoned(cause):
            return "store is unusable after an earlier failure (\(cause)); reopen it"
        case let .locked(path):
            return "\(path): locked by another process"
        case .injectedCrash:
            return "injected crash during save"
        }
    }
}

/// Something recovery repaired and wants an operator to know about (a torn tail it
/// truncated, a corrupt snapshot it set aside).
public struct StorageWarning: CustomStringConvertible, Equatable, Sendable {
    /// The file concerned.
    public var file: String
    /// Byte offset in `file`, when it applies.
    public var offset: UInt64?
    /// What happened.
    public var message: String

    public init(file: String, offset: UInt64?, message: String) {
        self.file = file
        self.offset = offset
        self.message = message
    }

    public var description: String {
        if let offset { return "\(file) at offset \(offset): \(message)" }
        return "\(file): \(message)"
    }
}
