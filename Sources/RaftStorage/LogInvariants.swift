/// The checks both stores make on every `save`, so the file store and its in-memory twin
/// accept and refuse exactly the same calls. Misuse by the caller is a programming error
/// (`precondition`); exceeding a configured limit throws.
enum LogInvariants {
    /// The store's state before the save.
    struct Before {
        var firstIndex: UInt64
        var lastIndex: UInt64
        var hardState: StoredHardState
    }

    /// Returns the encoded size estimate of the save.
    @discardableResult
    static func checkSave(
        hardState: StoredHardState?, entries: [StoredEntry], before: Before, options: StorageOptions,
        termAt: (UInt64) -> UInt64?
    ) throws -> Int {
        var bytes = hardState == nil ? 0 : WALFormat.recordHeaderBytes + WALFormat.hardStateBodyBytes
        var newLast = before.lastIndex
        if let first = entries.first {
            precondition(
                first.index >= before.firstIndex,
                "save: entry \(first.index) is at or below the compaction point \(before.firstIndex - 1)")
            precondition(
                first.index <= before.lastIndex + 1,
                "save: entry \(first.index) leaves a gap after the last index \(before.lastIndex)")
            if first.index <= before.lastIndex {
                precondition(
                    first.index > before.hardState.commit,
                    "save: entry \(first.index) would truncate committed entries (commit \(before.hardState.commit))")
            }
            let previousTerm = termAt(first.index - 1) ?? 0
            precondition(
                first.term >= previousTerm,
                "save: entry \(first.index) has term \(first.term) below its predecessor's \(previousTerm)")
            var expected = first.index
            var term = first.term
            for entry in entries {
                precondition(entry.index == expected, "save: entries not contiguous at \(entry.index), expected \(expected)")
                precondition(entry.term >= term, "save: entry \(entry.index) has term \(entry.term) below \(term)")
                if entry.payload.count > options.entryPayloadBytesMax {
                    throw StorageError.limitExceeded(
                        limit: "entryPayloadBytesMax (entry \(entry.index))", value: entry.payload.count,
                        max: options.entryPayloadBytesMax)
                }
                bytes += WALFormat.align8(WALFormat.recordHeaderBytes + WALFormat.entryBodyFixedBytes + entry.payload.count)
                expected += 1
                term = entry.term
            }
            newLast = expected - 1
        }
        if let hardState {
            let old = before.hardState
            precondition(hardState.term >= old.term, "save: term goes back from \(old.term) to \(hardState.term)")
            precondition(
                hardState.term != old.term || old.vote == 0 || hardState.vote == old.vote,
                "save: vote in term \(old.term) changes from \(old.vote) to \(hardState.vote)")
            precondition(hardState.commit >= old.commit, "save: commit goes back from \(old.commit) to \(hardState.commit)")
            precondition(
                hardState.commit <= newLast,
                "save: commit \(hardState.commit) beyond the last index \(newLast)")
        }
        if bytes > options.saveBytesMax {
            throw StorageError.limitExceeded(limit: "saveBytesMax", value: bytes, max: options.saveBytesMax)
        }
        return bytes
    }

    static func checkSnapshot(_ metadata: SnapshotMetadata, dataBytes: Int, latest: SnapshotMetadata?, options: StorageOptions) throws {
        if let latest, metadata.index <= latest.index {
            throw StorageError.snapshotOutOfDate(index: metadata.index, latest: latest.index)
        }
        if dataBytes > options.snapshotBytesMax {
            throw StorageError.limitExceeded(limit: "snapshotBytesMax", value: dataBytes, max: options.snapshotBytesMax)
        }
        if metadata.configuration.count > options.snapshotConfigurationBytesMax {
            throw StorageError.limitExceeded(
                limit: "snapshotConfigurationBytesMax", value: metadata.configuration.count,
                max: options.snapshotConfigurationBytesMax)
        }
    }

    /// `saveSnapshot`: the snapshot describes a prefix of this log.
    static func checkOwnSnapshot(_ metadata: SnapshotMetadata, lastIndex: UInt64, termAt: (UInt64) -> UInt64?) {
        precondition(metadata.index <= lastIndex, "saveSnapshot: index \(metadata.index) beyond the last index \(lastIndex)")
        if let term = termAt(metadata.index) {
            precondition(term == metadata.term, "saveSnapshot: term \(metadata.term) at \(metadata.index) but the log has \(term)")
        }
    }

    /// `compact(upTo:)`: a snapshot covers `index`, which is in the log.
    static func checkCompaction(upTo index: UInt64, lastIndex: UInt64, latest: SnapshotMetadata?) {
        precondition(index <= lastIndex, "compact: index \(index) beyond the last index \(lastIndex)")
        precondition(
            (latest?.index ?? 0) >= index,
            "compact: index \(index) is not covered by a snapshot (latest \(latest?.index ?? 0))")
    }

    /// `installSnapshot`: the snapshot covers everything committed.
    static func checkInstall(_ metadata: SnapshotMetadata, hardState: StoredHardState) {
        precondition(
            metadata.index >= hardState.commit,
            "installSnapshot: index \(metadata.index) below the commit index \(hardState.commit)")
    }
}
