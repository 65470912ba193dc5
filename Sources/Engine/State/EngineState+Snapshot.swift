import Workflow

/// Why `EngineState(restoring:)` refused a snapshot. The state it would have replaced is
/// left untouched.
public enum SnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes do not start with the engine snapshot magic `OENG`.
    case notASnapshot
    /// The snapshot was written by an encoding version this build cannot read.
    case unsupportedVersion(UInt8)
    /// The trailing checksum does not match the content: the bytes were damaged.
    case checksumMismatch(stored: UInt64, computed: UInt64)
    /// The content does not decode.
    case malformed(DecodeError)
    /// The content decodes but breaks an invariant of the engine (dangling reference,
    /// duplicate id, order violated, …).
    case inconsistent(String)

    public var description: String {
        switch self {
        case .notASnapshot: return "not an engine snapshot (missing the 'OENG' magic)"
        case .unsupportedVersion(let version):
            return "engine snapshot version \(version) is not supported; this build reads version \(EngineState.snapshotFormatVersion)"
        case .checksumMismatch(let stored, let computed):
            return "engine snapshot is damaged: checksum \(String(stored, radix: 16)) stored, \(String(computed, radix: 16)) computed"
        case .malformed(let error): return "engine snapshot does not decode: \(error)"
        case .inconsistent(let reason): return "engine snapshot is inconsistent: \(reason)"
        }
    }
}

/// Snapshot encoding: the whole state as one compact, versioned byte string.
///
/// ```
/// "OENG" | version (1) | appliedIndex | clockMillis
/// | workflows, sorted by name: name, versions (hash, registeredIndex, registeredAtMillis, definition)
/// | instances, in start order: id, workflow, version, state, data, revision, created/updated index
///   and time, dropped history count, history entries
/// | request ids, oldest first: id, fingerprint, index, time, outcome
/// | FNV-1a-64 checksum of everything before it (8 bytes LE)
/// ```
///
/// Everything is written in an order fixed by the state itself (never by `Dictionary`
/// iteration), so equal states give identical bytes.
extension EngineState {
    /// The snapshot encoding version this build writes and reads.
    public static let snapshotFormatVersion: UInt8 = 1
    static let snapshotMagic: [UInt8] = Array("OENG".utf8)

    /// The whole state as bytes: equal states give identical bytes.
    public func snapshot() -> [UInt8] {
        var writer = ByteWriter(capacity: 4096)
        for byte in EngineState.snapshotMagic { writer.writeByte(byte) }
        writer.writeByte(EngineState.snapshotFormatVersion)
        writer.writeVarint(appliedIndex)
        writer.writeSigned(clockMillis)

        let names = workflows.keys.sorted(by: utf8Precedes)
        writer.writeCount(names.count)
        for name in names {
            let versions = workflows[name]!.versions
            writer.writeString(name)
            writer.writeCount(versions.count)
            for version in versions {
                writer.writeString(version.hash)
                writer.writeVarint(version.registeredIndex)
                writer.writeSigned(version.registeredAtMillis)
                writer.writeBlob(version.definitionBytes)
            }
        }

        writer.writeCount(order.count)
        for entry in order {
            let instance = instances[entry.id]!
            let historyLog = histories[entry.id]!
            writer.writeString(instance.id)
            writer.writeString(instance.workflow)
            writer.writeCount(instance.version)
            writer.writeString(instance.state)
            JSONValue.writeMembers(instance.data, to: &writer)
            writer.writeVarint(instance.revision)
            writer.writeVarint(instance.createdIndex)
            writer.writeSigned(instance.createdAtMillis)
            writer.writeVarint(instance.updatedIndex)
            writer.writeSigned(instance.updatedAtMillis)
            writer.writeVarint(historyLog.dropped)
            let history = historyLog.entries
            writer.writeCount(history.count)
            for item in history { item.write(to: &writer) }
        }

        let records = requestLog.records
        writer.writeCount(records.count)
        for record in records {
            writer.writeString(record.id)
            writer.writeFixed64(record.fingerprint)
            writer.writeVarint(record.index)
            writer.writeSigned(record.timeMillis)
            record.outcome.write(to: &writer)
        }

        var checksum = FNV1a64()
        checksum.add(contentsOf: writer.bytes)
        writer.writeFixed64(checksum.value)
        return writer.bytes
    }

    /// Rebuilds a state from `snapshot()` bytes, validating the encoding and every
    /// invariant; garbage gives a `SnapshotError`, never a trap.
    public init(restoring bytes: [UInt8], settings: EngineSettings = EngineSettings()) throws(SnapshotError) {
        let magic = EngineState.snapshotMagic
        guard bytes.count >= magic.count + 1 + 8, Array(bytes[0..<magic.count]) == magic else { throw .notASnapshot }
        let version = bytes[magic.count]
        guard version == EngineState.snapshotFormatVersion else { throw .unsupportedVersion(version) }
        let bodyEnd = bytes.count - 8
        var checksum = FNV1a64()
        checksum.add(contentsOf: bytes[0..<bodyEnd])
        var trailer = ByteReader(bytes, offset: bodyEnd)
        let stored: UInt64
        do { stored = try trailer.readFixed64("checksum") } catch { throw .malformed(error) }
        guard stored == checksum.value else { throw .checksumMismatch(stored: stored, computed: checksum.value) }

        self.init(settings: settings)
        var reader = ByteReader(bytes, offset: magic.count + 1, end: bodyEnd)
        do {
            try decodeBody(&reader)
            try reader.expectEnd("engine snapshot")
        } catch let error as SnapshotError {
            throw error
        } catch let error as DecodeError {
            throw .malformed(error)
        } catch {
            throw .inconsistent("\(error)")
        }
    }

    private mutating func decodeBody(_ reader: inout ByteReader) throws {
        appliedIndex = try reader.readVarint("applied index")
        clockMillis = try reader.readSigned("clock")

        func check(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
            if !condition { throw SnapshotError.inconsistent(reason()) }
        }

        let workflowCount = try reader.readCount("workflow count")
        var previousName: String?
        for _ in 0..<workflowCount {
            let name = try reader.readString("workflow name")
            if let previousName {
                try check(utf8Precedes(previousName, name), "workflows are not sorted by name at '\(name)'")
            }
            previousName = name
            let versionCount = try reader.readCount("version count")
            try check(versionCount >= 1, "workflow '\(name)' has no versions")
            var versions: [WorkflowVersion] = []
            versions.reserveCapacity(versionCount)
            for number in 1...versionCount {
                let hash = try reader.readString("definition hash")
                let registeredIndex = try reader.readVarint("registered index")
                let registeredAt = try reader.readSigned("registered time")
                let blobOffset = reader.offset
                let blob = try reader.readBlob("workflow definition")
                let definition: WorkflowDefinition
                do {
                    definition = try CanonicalCoder.decode(WorkflowDefinition.self, from: blob)
                } catch {
                    throw DecodeError.invalid(what: "workflow definition", offset: blobOffset, reason: "\(error)")
                }
                try check(definition.name == name, "version \(number) of '\(name)' holds workflow '\(definition.name)'")
                try check(definition.contentHash == hash, "version \(number) of '\(name)' does not match its hash")
                if let problem = EngineState.structuralProblem(definition) {
                    throw SnapshotError.inconsistent("version \(number) of '\(name)': \(problem)")
                }
                try check(registeredIndex <= appliedIndex, "version \(number) of '\(name)' registered after the applied index")
                versions.append(WorkflowVersion(name: name, version: number, hash: hash, definition: definition,
                                                registeredIndex: registeredIndex, registeredAtMillis: registeredAt,
                                                definitionBytes: blob))
            }
            workflows[name] = WorkflowRecord(versions: versions)
        }

        let instanceCount = try reader.readCount("instance count")
        for _ in 0..<instanceCount {
            let id = try reader.readString("instance id")
            let workflow = try reader.readString("instance workflow")
            let version = try reader.readInt("instance version")
            let state = try reader.readString("instance state")
            let data = try JSONValue.readMembers(from: &reader)
            let revision = try reader.readVarint("revision")
            let createdIndex = try reader.readVarint("created index")
            let createdAt = try reader.readSigned("created time")
            let updatedIndex = try reader.readVarint("updated index")
            let updatedAt = try reader.readSigned("updated time")
            let dropped = try reader.readVarint("dropped history count")
            let historyCount = try reader.readCount("history count", minBytesEach: 5)
            var history: [HistoryEntry] = []
            history.reserveCapacity(historyCount)
            for _ in 0..<historyCount { history.append(try HistoryEntry.read(from: &reader)) }

            try check(EngineLimits.isValidID(id), "instance id '\(id)' is not valid")
            try check(instances[id] == nil, "instance '\(id)' appears twice")
            guard let pinned = workflows[workflow]?.versions, version >= 1, version <= pinned.count else {
                throw SnapshotError.inconsistent("instance '\(id)' is pinned to missing workflow version \(workflow) v\(version)")
            }
            let definition = pinned[version - 1].definition
            try check(definition.state(named: state) != nil, "instance '\(id)' is in unknown state '\(state)'")
            try check(revision >= 1, "instance '\(id)' has revision 0")
            try check(createdIndex <= updatedIndex && updatedIndex <= appliedIndex, "instance '\(id)' has indexes out of order")
            if let last = order.last {
                try check(last.createdIndex < createdIndex, "instances are not in start order at '\(id)'")
            }
            var previousIndex: UInt64 = 0
            for item in history {
                try check(item.index >= previousIndex && item.index <= appliedIndex, "history of '\(id)' is out of order")
                previousIndex = item.index
            }

            let instance = Instance(id: id, workflow: workflow, version: version, state: state, data: data,
                                    revision: revision, createdIndex: createdIndex, createdAtMillis: createdAt,
                                    updatedIndex: updatedIndex, updatedAtMillis: updatedAt, isFinal: definition.isFinal(state))
            instances[id] = instance
            histories[id] = HistoryLog(entries: history, dropped: dropped)
            order.append(OrderEntry(createdIndex: createdIndex, id: id))
            stateCounts[workflow, default: [:]][state, default: 0] += 1
        }

        let requestCount = try reader.readCount("request id count", minBytesEach: 12)
        var entries: [RequestLog.Record] = []
        entries.reserveCapacity(requestCount)
        var seen = Set<String>()
        var previousTime = Int64.min
        for _ in 0..<requestCount {
            let id = try reader.readString("request id")
            let fingerprint = try reader.readFixed64("fingerprint")
            let index = try reader.readVarint("request index")
            let time = try reader.readSigned("request time")
            let outcome = try Outcome.read(from: &reader)
            try check(seen.insert(id).inserted, "request id '\(id)' appears twice")
            try check(time >= previousTime, "request ids are not in time order at '\(id)'")
            try check(index <= appliedIndex, "request id '\(id)' was applied after the applied index")
            previousTime = time
            entries.append(RequestLog.Record(id: id, fingerprint: fingerprint, outcome: outcome, index: index, timeMillis: time))
        }
        requestLog = RequestLog(restoring: entries)
    }
}

extension HistoryEntry {
    func write(to writer: inout ByteWriter) {
        switch kind {
        case .start: writer.writeByte(1)
        case .transition: writer.writeByte(2)
        }
        writer.writeVarint(index)
        writer.writeSigned(timeMillis)
        writer.writeOptionalString(from)
        writer.writeString(to)
        writer.writeOptionalString(transition)
        writer.writeOptionalString(requestID)
        writer.writeVarint(revision)
    }

    static func read(from reader: inout ByteReader) throws(DecodeError) -> HistoryEntry {
        let at = reader.offset
        let tag = try reader.readByte("history kind")
        let kind: Kind
        switch tag {
        case 1: kind = .start
        case 2: kind = .transition
        default: throw .unknownTag(what: "history entry", tag: tag, offset: at)
        }
        return HistoryEntry(kind: kind, index: try reader.readVarint("history index"), timeMillis: try reader.readSigned("history time"),
                            from: try reader.readOptionalString("history from"), to: try reader.readString("history to"),
                            transition: try reader.readOptionalString("history transition"),
                            requestID: try reader.readOptionalString("history request id"),
                            revision: try reader.readVarint("history revision"))
    }
}
