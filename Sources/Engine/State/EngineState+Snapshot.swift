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
/// | (version 2) pending dispatches, by instance in start order then queue order;
///   failed dispatches, oldest first
/// | (version 3) triggers, by workflow then name: anchor, expression, zone, last slot, last
///   index, last instance, counters; armed timers, by instance in start order
/// | (version 4) API tokens, by id: id, role, name, digest, created index/time/by, expiry,
///   revocation
/// | FNV-1a-64 checksum of everything before it (8 bytes LE)
/// ```
///
/// Version 2 added the dispatch sections and two history kinds (hook runs, transitions with a
/// cause); version 3 the trigger and timer sections and starts with a cause (a cron fire);
/// version 4 the token section and entries with an actor (the API token that made them).
/// Versions 1 and 2 are still read: their triggers are anchored at the registrations and
/// their timers armed from each instance's last change, as replaying their log would.
///
/// Everything is written in an order fixed by the state itself (never by `Dictionary`
/// iteration), so equal states give identical bytes.
extension EngineState {
    /// The snapshot encoding version this build writes (it reads 1 to 3 too).
    public static let snapshotFormatVersion: UInt8 = 4
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

        writer.writeCount(instances.count)
        for entry in liveOrder {
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

        var pending: [Dispatch] = []
        for entry in liveOrder {
            for id in dispatchQueues[entry.id] ?? [] { pending.append(dispatches[id]!) }
        }
        writer.writeCount(pending.count)
        for dispatch in pending { dispatch.write(to: &writer) }
        writer.writeCount(failedDispatches.count)
        for failed in failedDispatches {
            failed.dispatch.write(to: &writer)
            writer.writeString(failed.result)
            writer.writeVarint(failed.index)
            writer.writeSigned(failed.atMillis)
        }

        let triggerKeys = triggers.keys.sorted()
        writer.writeCount(triggerKeys.count)
        for key in triggerKeys {
            let trigger = triggers[key]!
            writer.writeString(trigger.workflow)
            writer.writeString(trigger.name)
            writer.writeSigned(trigger.anchorMillis)
            writer.writeString(trigger.cron)
            writer.writeString(trigger.timezone)
            writer.writeBool(trigger.lastSlotMillis != nil)
            if let last = trigger.lastSlotMillis { writer.writeSigned(last) }
            writer.writeVarint(trigger.lastFiredIndex ?? 0)
            writer.writeOptionalString(trigger.lastInstance)
            writer.writeVarint(trigger.fired)
            writer.writeVarint(trigger.skipped)
            writer.writeVarint(trigger.missed)
        }
        var armed: [StateTimer] = []
        for entry in liveOrder { if let timer = timers[entry.id] { armed.append(timer) } }
        writer.writeCount(armed.count)
        for timer in armed {
            writer.writeString(timer.instance)
            writer.writeVarint(timer.revision)
            writer.writeSigned(timer.dueAtMillis)
        }

        let tokenIDs = tokens.keys.sorted()
        writer.writeCount(tokenIDs.count)
        for id in tokenIDs { tokens[id]!.write(to: &writer) }

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
        guard (1...EngineState.snapshotFormatVersion).contains(version) else { throw .unsupportedVersion(version) }
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
            try decodeBody(&reader, version: version)
            try reader.expectEnd("engine snapshot")
        } catch let error as SnapshotError {
            throw error
        } catch let error as DecodeError {
            throw .malformed(error)
        } catch {
            throw .inconsistent("\(error)")
        }
    }

    private mutating func decodeBody(_ reader: inout ByteReader, version formatVersion: UInt8) throws {
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
            historyEntriesDropped += dropped
            order.append(OrderEntry(createdIndex: createdIndex, id: id))
            stateCounts[workflow, default: [:]][state, default: 0] += 1
            trackLive(id, workflow: workflow, from: nil, to: state, isFinal: instance.isFinal)
        }
        rebuildFinishedQueues()

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
        guard formatVersion >= 2 else { return restoreSchedulingOfOlderSnapshot() }

        let pendingCount = try reader.readCount("pending dispatch count", minBytesEach: 8)
        for _ in 0..<pendingCount {
            let dispatch = try Dispatch.read(from: &reader)
            try check(dispatches[dispatch.id] == nil, "dispatch '\(dispatch.id)' appears twice")
            try check(instances[dispatch.instance] != nil, "dispatch '\(dispatch.id)' belongs to unknown instance '\(dispatch.instance)'")
            try check(dispatch.recordedIndex <= appliedIndex && dispatch.attempt >= 1, "dispatch '\(dispatch.id)' is out of range")
            try check(hook(of: dispatch) != nil, "dispatch '\(dispatch.id)' names no hook of \(dispatch.workflow) v\(dispatch.version)")
            dispatches[dispatch.id] = dispatch
            dispatchQueues[dispatch.instance, default: []].append(dispatch.id)
        }
        let failedCount = try reader.readCount("failed dispatch count", minBytesEach: 8)
        for _ in 0..<failedCount {
            let dispatch = try Dispatch.read(from: &reader)
            let result = try reader.readString("failed result")
            let index = try reader.readVarint("failed index")
            let at = try reader.readSigned("failed time")
            try check(index <= appliedIndex, "failed dispatch '\(dispatch.id)' is after the applied index")
            failedDispatches.append(FailedDispatch(dispatch: dispatch, result: result, index: index, atMillis: at))
        }
        guard formatVersion >= 3 else { return restoreSchedulingOfOlderSnapshot() }

        let triggerCount = try reader.readCount("trigger count", minBytesEach: 8)
        var previousKey: TriggerKey?
        for _ in 0..<triggerCount {
            let workflow = try reader.readString("trigger workflow")
            let name = try reader.readString("trigger name")
            var trigger = TriggerState(workflow: workflow, name: name, anchorMillis: try reader.readSigned("trigger anchor"),
                                       cron: try reader.readString("trigger cron"), timezone: try reader.readString("trigger zone"))
            if try reader.readBool("last slot present") { trigger.lastSlotMillis = try reader.readSigned("last slot") }
            let lastIndex = try reader.readVarint("last fired index")
            trigger.lastFiredIndex = lastIndex == 0 ? nil : lastIndex
            trigger.lastInstance = try reader.readOptionalString("last instance")
            trigger.fired = try reader.readVarint("fired count")
            trigger.skipped = try reader.readVarint("skipped count")
            trigger.missed = try reader.readVarint("missed count")
            let key = TriggerKey(workflow: workflow, name: name)
            if let previousKey { try check(previousKey < key, "triggers are not sorted at \(workflow)/\(name)") }
            previousKey = key
            try check(workflows[workflow]?.versions.last?.definition.trigger(named: name) != nil,
                      "trigger '\(name)' is not a trigger of the latest version of '\(workflow)'")
            try check(lastIndex <= appliedIndex, "trigger '\(name)' of '\(workflow)' fired after the applied index")
            triggers[key] = trigger
        }
        let timerCount = try reader.readCount("timer count", minBytesEach: 3)
        for _ in 0..<timerCount {
            let id = try reader.readString("timer instance")
            let revision = try reader.readVarint("timer revision")
            let due = try reader.readSigned("timer due")
            guard let instance = instances[id] else { throw SnapshotError.inconsistent("a timer belongs to unknown instance '\(id)'") }
            try check(timers[id] == nil, "instance '\(id)' has two timers")
            try check(instance.revision == revision, "the timer of '\(id)' is for revision \(revision), the instance is at \(instance.revision)")
            guard let timeout = workflows[instance.workflow]?.versions[instance.version - 1].definition.state(named: instance.state)?.timeout,
                  !instance.isFinal else {
                throw SnapshotError.inconsistent("instance '\(id)' has a timer but its state '\(instance.state)' has no timeout")
            }
            timers[id] = StateTimer(instance: id, workflow: instance.workflow, state: instance.state, revision: revision,
                                    dueAtMillis: due, transition: timeout.transition, afterMillis: timeout.after.milliseconds)
        }
        guard formatVersion >= 4 else { return }

        let tokenCount = try reader.readCount("token count", minBytesEach: 8)
        var previousToken: String?
        for _ in 0..<tokenCount {
            let token = try TokenRecord.read(from: &reader)
            if let previousToken { try check(previousToken < token.id, "tokens are not sorted by id at '\(token.id)'") }
            previousToken = token.id
            try check(TokenLimits.isValidID(token.id) && token.digest.count == TokenLimits.digestBytes,
                      "token '\(token.id)' is malformed")
            try check(token.createdIndex <= appliedIndex, "token '\(token.id)' was created after the applied index")
            tokens[token.id] = token
        }
    }

    /// A snapshot from before triggers and timers were recorded (versions 1 and 2): rebuilds
    /// them as replaying the log that produced it would have — triggers anchored at the
    /// registrations that introduced or changed them, and each instance in a state with a
    /// timeout armed from its last change.
    private mutating func restoreSchedulingOfOlderSnapshot() {
        for name in workflows.keys.sorted(by: utf8Precedes) {
            for version in workflows[name]!.versions { adoptTriggers(of: version.definition, atMillis: version.registeredAtMillis) }
        }
        for entry in liveOrder {
            let instance = instances[entry.id]!
            guard !instance.isFinal,
                  let timeout = workflows[instance.workflow]?.versions[instance.version - 1].definition.state(named: instance.state)?.timeout
            else { continue }
            timers[instance.id] = StateTimer(instance: instance.id, workflow: instance.workflow, state: instance.state,
                                             revision: instance.revision, dueAtMillis: instance.updatedAtMillis + timeout.after.milliseconds,
                                             transition: timeout.transition, afterMillis: timeout.after.milliseconds)
        }
    }
}

extension Dispatch {
    func write(to writer: inout ByteWriter) {
        writer.writeString(id)
        writer.writeString(instance)
        writer.writeString(workflow)
        writer.writeCount(version)
        writer.writeOptionalString(transition)
        writer.writeOptionalString(from)
        writer.writeString(to)
        writer.writeByte(stage.rawValue)
        writer.writeCount(position)
        writer.writeString(plugin)
        writer.writeVarint(recordedIndex)
        writer.writeCount(attempt)
        writer.writeSigned(dueAtMillis)
    }

    static func read(from reader: inout ByteReader) throws(DecodeError) -> Dispatch {
        let id = try reader.readString("dispatch id")
        let instance = try reader.readString("dispatch instance")
        let workflow = try reader.readString("dispatch workflow")
        let version = try reader.readInt("dispatch version")
        let transition = try reader.readOptionalString("dispatch transition")
        let from = try reader.readOptionalString("dispatch from")
        let to = try reader.readString("dispatch to")
        let stageAt = reader.offset
        let rawStage = try reader.readByte("dispatch stage")
        guard let stage = Stage(rawValue: rawStage) else { throw .unknownTag(what: "dispatch stage", tag: rawStage, offset: stageAt) }
        return Dispatch(id: id, instance: instance, workflow: workflow, version: version, transition: transition, from: from,
                        to: to, stage: stage, position: try reader.readInt("dispatch position"),
                        plugin: try reader.readString("dispatch plugin"), recordedIndex: try reader.readVarint("dispatch index"),
                        attempt: try reader.readInt("dispatch attempt"), dueAtMillis: try reader.readSigned("dispatch due"))
    }
}

extension HistoryEntry {
    /// Kinds 1 (start) and 2 (transition) are version 1's; 3 (a hook run) and 4 (a
    /// transition with a cause) came with version 2; 5 (a start with a cause) with version 3;
    /// 6 and 7 (a start and a transition with an actor) with version 4.
    func write(to writer: inout ByteWriter) {
        switch kind {
        case .start: writer.writeByte(cause != nil ? 5 : actor != nil ? 6 : 1)
        case .transition: writer.writeByte(cause != nil ? 4 : actor != nil ? 7 : 2)
        case .hook: writer.writeByte(3)
        }
        writer.writeVarint(index)
        writer.writeSigned(timeMillis)
        writer.writeOptionalString(from)
        writer.writeString(to)
        writer.writeOptionalString(transition)
        writer.writeOptionalString(requestID)
        writer.writeVarint(revision)
        if kind != .hook, let cause { writer.writeString(cause) }
        if kind != .hook, cause == nil, let actor { writer.writeString(actor) }
        if kind == .hook, let hook {
            writer.writeString(hook.dispatchID)
            writer.writeString(hook.plugin)
            writer.writeByte(hook.stage.rawValue)
            writer.writeCount(hook.attempt)
            writer.writeString(hook.result)
            writer.writeSigned(hook.exitCode.map(Int64.init) ?? Int64.min)
            writer.writeSigned(hook.signal.map(Int64.init) ?? Int64.min)
            writer.writeSigned(hook.durationMillis)
            writer.writeString(hook.stdout)
            writer.writeString(hook.stderr)
            writer.writeBool(hook.stdoutTruncated)
            writer.writeBool(hook.stderrTruncated)
            writer.writeString(hook.note)
            writer.writeBool(hook.final)
        }
    }

    static func read(from reader: inout ByteReader) throws(DecodeError) -> HistoryEntry {
        let at = reader.offset
        let tag = try reader.readByte("history kind")
        let kind: Kind
        switch tag {
        case 1, 5, 6: kind = .start
        case 2, 4, 7: kind = .transition
        case 3: kind = .hook
        default: throw .unknownTag(what: "history entry", tag: tag, offset: at)
        }
        var entry = HistoryEntry(kind: kind, index: try reader.readVarint("history index"), timeMillis: try reader.readSigned("history time"),
                                 from: try reader.readOptionalString("history from"), to: try reader.readString("history to"),
                                 transition: try reader.readOptionalString("history transition"),
                                 requestID: try reader.readOptionalString("history request id"),
                                 revision: try reader.readVarint("history revision"))
        if tag == 4 || tag == 5 { entry.cause = try reader.readString("history cause") }
        if tag == 6 || tag == 7 { entry.actor = try reader.readString("history actor") }
        if tag == 3 {
            let dispatchID = try reader.readString("hook dispatch id")
            let plugin = try reader.readString("hook plugin")
            let stageAt = reader.offset
            let rawStage = try reader.readByte("hook stage")
            guard let stage = Dispatch.Stage(rawValue: rawStage) else {
                throw .unknownTag(what: "hook stage", tag: rawStage, offset: stageAt)
            }
            let attempt = try reader.readInt("hook attempt")
            let result = try reader.readString("hook result")
            let exitCode = try reader.readSigned("hook exit code")
            let signal = try reader.readSigned("hook signal")
            entry.hook = HookRunRecord(
                dispatchID: dispatchID, plugin: plugin, stage: stage, attempt: attempt, result: result,
                exitCode: exitCode == Int64.min ? nil : Int32(truncatingIfNeeded: exitCode),
                signal: signal == Int64.min ? nil : Int32(truncatingIfNeeded: signal),
                durationMillis: try reader.readSigned("hook duration"), stdout: try reader.readString("hook stdout"),
                stderr: try reader.readString("hook stderr"), stdoutTruncated: try reader.readBool("hook stdout truncated"),
                stderrTruncated: try reader.readBool("hook stderr truncated"), note: try reader.readString("hook note"),
                final: try reader.readBool("hook final"))
        }
        return entry
    }
}
