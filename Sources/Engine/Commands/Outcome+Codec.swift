/// The binary encoding of outcomes: how the request-id table keeps them in a snapshot, and
/// how a `Consensus` implementation may carry one from the leader to a forwarding follower.
///
/// One version byte (1), then a tag and the fields in declaration order. See docs/engine.md.
extension Outcome {
    /// The encoding version this build writes and reads.
    public static let formatVersion: UInt8 = 1

    /// The outcome as bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        writer.writeByte(Outcome.formatVersion)
        write(to: &writer)
        return writer.bytes
    }

    /// Decodes bytes written by `encoded()`; malformed input throws, never traps.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> Outcome {
        var reader = ByteReader(bytes)
        let version = try reader.readByte("outcome version")
        guard version == formatVersion else {
            throw .unsupportedVersion(what: "outcome", version: version, supported: formatVersion)
        }
        let outcome = try read(from: &reader)
        try reader.expectEnd("outcome")
        return outcome
    }

    func write(to writer: inout ByteWriter) {
        switch self {
        case .workflowRegistered(let value):
            writer.writeByte(1)
            writer.writeString(value.name)
            writer.writeCount(value.version)
            writer.writeString(value.hash)
            writer.writeBool(value.created)
            writer.writeVarint(value.index)
        case .instanceStarted(let value):
            writer.writeByte(2)
            writer.writeString(value.id)
            writer.writeString(value.workflow)
            writer.writeCount(value.version)
            writer.writeString(value.state)
            writer.writeVarint(value.revision)
            writer.writeVarint(value.index)
        case .transitioned(let value):
            writer.writeByte(3)
            writer.writeString(value.id)
            writer.writeString(value.transition)
            writer.writeString(value.from)
            writer.writeString(value.to)
            writer.writeVarint(value.revision)
            writer.writeVarint(value.index)
        case .rejected(let rejection):
            writer.writeByte(4)
            rejection.write(to: &writer)
        case .noop:
            writer.writeByte(5)
        case .alreadyApplied(let index, let appliedIndex):
            writer.writeByte(6)
            writer.writeVarint(index)
            writer.writeVarint(appliedIndex)
        case .hookRecorded(let value):
            writer.writeByte(7)
            writer.writeString(value.dispatchID)
            writer.writeCount(value.attempt)
            switch value.status {
            case .succeeded: writer.writeByte(1)
            case .willRetry(let attempt, let atMillis):
                writer.writeByte(2)
                writer.writeCount(attempt)
                writer.writeSigned(atMillis)
            case .failed: writer.writeByte(3)
            case .ignored(let reason):
                writer.writeByte(4)
                writer.writeString(reason)
            }
            writer.writeVarint(value.index)
        case .cronFired(let value):
            writer.writeByte(8)
            writer.writeCount(value.results.count)
            for result in value.results {
                writer.writeString(result.workflow)
                writer.writeString(result.trigger)
                writer.writeSigned(result.slotMillis)
                switch result.status {
                case .fired(let started, let moved, let notMoved):
                    writer.writeByte(1)
                    writer.writeOptionalString(started)
                    writer.writeCount(moved)
                    writer.writeCount(notMoved)
                case .skipped(let reason):
                    writer.writeByte(2)
                    writer.writeString(reason)
                case .ignored(let reason):
                    writer.writeByte(3)
                    writer.writeString(reason)
                }
            }
            writer.writeVarint(value.index)
        case .timerFired(let value):
            writer.writeByte(9)
            writer.writeCount(value.results.count)
            for result in value.results {
                writer.writeString(result.instance)
                writer.writeVarint(result.revision)
                switch result.status {
                case .fired(let transition, let from, let to):
                    writer.writeByte(1)
                    writer.writeString(transition)
                    writer.writeString(from)
                    writer.writeString(to)
                case .ignored(let reason):
                    writer.writeByte(2)
                    writer.writeString(reason)
                }
            }
            writer.writeVarint(value.index)
        case .instancesPurged(let value):
            writer.writeByte(10)
            writer.writeCount(value.purged)
            writer.writeCount(value.kept)
            writer.writeVarint(value.index)
        case .tokenChanged(let value):
            writer.writeByte(11)
            value.token.write(to: &writer)
            writer.writeBool(value.changed)
            writer.writeVarint(value.index)
        }
    }

    static func read(from reader: inout ByteReader) throws(DecodeError) -> Outcome {
        let at = reader.offset
        let tag = try reader.readByte("outcome tag")
        switch tag {
        case 1:
            return .workflowRegistered(WorkflowRegistered(
                name: try reader.readString("workflow name"), version: try reader.readInt("version"),
                hash: try reader.readString("hash"), created: try reader.readBool("created"),
                index: try reader.readVarint("index")))
        case 2:
            return .instanceStarted(InstanceStarted(
                id: try reader.readString("instance id"), workflow: try reader.readString("workflow name"),
                version: try reader.readInt("version"), state: try reader.readString("state"),
                revision: try reader.readVarint("revision"), index: try reader.readVarint("index")))
        case 3:
            return .transitioned(Transitioned(
                id: try reader.readString("instance id"), transition: try reader.readString("transition"),
                from: try reader.readString("from"), to: try reader.readString("to"),
                revision: try reader.readVarint("revision"), index: try reader.readVarint("index")))
        case 4:
            return .rejected(try Rejection.read(from: &reader))
        case 5:
            return .noop
        case 6:
            return .alreadyApplied(index: try reader.readVarint("index"), appliedIndex: try reader.readVarint("applied index"))
        case 7:
            let dispatchID = try reader.readString("dispatch id")
            let attempt = try reader.readInt("attempt")
            let statusAt = reader.offset
            let status: HookRecorded.Status
            switch try reader.readByte("hook status") {
            case 1: status = .succeeded
            case 2: status = .willRetry(attempt: try reader.readInt("next attempt"), atMillis: try reader.readSigned("due"))
            case 3: status = .failed
            case 4: status = .ignored(reason: try reader.readString("reason"))
            case let other: throw .unknownTag(what: "hook status", tag: other, offset: statusAt)
            }
            return .hookRecorded(HookRecorded(dispatchID: dispatchID, attempt: attempt, status: status,
                                              index: try reader.readVarint("index")))
        case 8:
            let count = try reader.readCount("cron result count", minBytesEach: 4)
            var results: [CronFired.SlotResult] = []
            results.reserveCapacity(count)
            for _ in 0..<count {
                let workflow = try reader.readString("workflow name")
                let trigger = try reader.readString("trigger name")
                let slot = try reader.readSigned("slot")
                let statusAt = reader.offset
                let status: CronFired.Status
                switch try reader.readByte("cron status") {
                case 1:
                    status = .fired(started: try reader.readOptionalString("started instance"),
                                    moved: try reader.readInt("moved"), notMoved: try reader.readInt("not moved"))
                case 2: status = .skipped(reason: try reader.readString("reason"))
                case 3: status = .ignored(reason: try reader.readString("reason"))
                case let other: throw .unknownTag(what: "cron status", tag: other, offset: statusAt)
                }
                results.append(CronFired.SlotResult(workflow: workflow, trigger: trigger, slotMillis: slot, status: status))
            }
            return .cronFired(CronFired(results: results, index: try reader.readVarint("index")))
        case 9:
            let count = try reader.readCount("timer result count", minBytesEach: 3)
            var results: [TimerFired.TimerResult] = []
            results.reserveCapacity(count)
            for _ in 0..<count {
                let instance = try reader.readString("instance id")
                let revision = try reader.readVarint("revision")
                let statusAt = reader.offset
                let status: TimerFired.Status
                switch try reader.readByte("timer status") {
                case 1:
                    status = .fired(transition: try reader.readString("transition"), from: try reader.readString("from"),
                                    to: try reader.readString("to"))
                case 2: status = .ignored(reason: try reader.readString("reason"))
                case let other: throw .unknownTag(what: "timer status", tag: other, offset: statusAt)
                }
                results.append(TimerFired.TimerResult(instance: instance, revision: revision, status: status))
            }
            return .timerFired(TimerFired(results: results, index: try reader.readVarint("index")))
        case 10:
            return .instancesPurged(InstancesPurged(purged: try reader.readInt("purged"), kept: try reader.readInt("kept"),
                                                    index: try reader.readVarint("index")))
        case 11:
            return .tokenChanged(TokenChanged(token: try TokenRecord.read(from: &reader), changed: try reader.readBool("changed"),
                                              index: try reader.readVarint("index")))
        default:
            throw .unknownTag(what: "outcome", tag: tag, offset: at)
        }
    }
}

extension Rejection {
    func write(to writer: inout ByteWriter) {
        switch self {
        case .malformedCommand(let reason):
            writer.writeByte(1)
            writer.writeString(reason)
        case .invalidArgument(let field, let reason):
            writer.writeByte(2)
            writer.writeString(field)
            writer.writeString(reason)
        case .invalidDefinition(let workflow, let reason):
            writer.writeByte(3)
            writer.writeString(workflow)
            writer.writeString(reason)
        case .invalidData(let instance, let reason):
            writer.writeByte(4)
            writer.writeString(instance)
            writer.writeString(reason)
        case .unknownWorkflow(let name, let version):
            writer.writeByte(5)
            writer.writeString(name)
            writer.writeSigned(Int64(version ?? 0))
        case .unknownInstance(let id):
            writer.writeByte(6)
            writer.writeString(id)
        case .unknownTransition(let instance, let name, let allowed):
            writer.writeByte(7)
            writer.writeString(instance)
            writer.writeString(name)
            writer.writeStrings(allowed)
        case .unknownState(let instance, let state, let allowed):
            writer.writeByte(8)
            writer.writeString(instance)
            writer.writeString(state)
            writer.writeStrings(allowed)
        case .instanceExists(let id):
            writer.writeByte(9)
            writer.writeString(id)
        case .instanceFinal(let id, let state):
            writer.writeByte(10)
            writer.writeString(id)
            writer.writeString(state)
        case .transitionNotAllowed(let instance, let state, let transition, let to, let allowed):
            writer.writeByte(11)
            writer.writeString(instance)
            writer.writeString(state)
            writer.writeOptionalString(transition)
            writer.writeOptionalString(to)
            writer.writeStrings(allowed)
        case .ambiguousTransition(let instance, let state, let to, let candidates):
            writer.writeByte(12)
            writer.writeString(instance)
            writer.writeString(state)
            writer.writeString(to)
            writer.writeStrings(candidates)
        case .expectationFailed(let instance, let expected, let actual):
            writer.writeByte(13)
            writer.writeString(instance)
            writer.writeString(expected)
            writer.writeString(actual)
        case .requestIDConflict(let requestID):
            writer.writeByte(14)
            writer.writeString(requestID)
        case .limitExceeded(let limit, let max):
            writer.writeByte(15)
            writer.writeString(limit)
            writer.writeCount(max)
        case .unknownToken(let id):
            writer.writeByte(16)
            writer.writeString(id)
        }
    }

    static func read(from reader: inout ByteReader) throws(DecodeError) -> Rejection {
        let at = reader.offset
        let tag = try reader.readByte("rejection tag")
        switch tag {
        case 1: return .malformedCommand(reason: try reader.readString("reason"))
        case 2: return .invalidArgument(field: try reader.readString("field"), reason: try reader.readString("reason"))
        case 3: return .invalidDefinition(workflow: try reader.readString("workflow"), reason: try reader.readString("reason"))
        case 4: return .invalidData(instance: try reader.readString("instance"), reason: try reader.readString("reason"))
        case 5:
            let name = try reader.readString("workflow")
            let version = Int(truncatingIfNeeded: try reader.readSigned("version"))
            return .unknownWorkflow(name: name, version: version == 0 ? nil : version)
        case 6: return .unknownInstance(id: try reader.readString("instance"))
        case 7:
            return .unknownTransition(instance: try reader.readString("instance"), name: try reader.readString("transition"),
                                      allowed: try reader.readStrings("allowed"))
        case 8:
            return .unknownState(instance: try reader.readString("instance"), state: try reader.readString("state"),
                                 allowed: try reader.readStrings("allowed"))
        case 9: return .instanceExists(id: try reader.readString("instance"))
        case 10: return .instanceFinal(id: try reader.readString("instance"), state: try reader.readString("state"))
        case 11:
            return .transitionNotAllowed(instance: try reader.readString("instance"), state: try reader.readString("state"),
                                         transition: try reader.readOptionalString("transition"),
                                         to: try reader.readOptionalString("to"), allowed: try reader.readStrings("allowed"))
        case 12:
            return .ambiguousTransition(instance: try reader.readString("instance"), state: try reader.readString("state"),
                                        to: try reader.readString("to"), candidates: try reader.readStrings("candidates"))
        case 13:
            return .expectationFailed(instance: try reader.readString("instance"), expected: try reader.readString("expected"),
                                      actual: try reader.readString("actual"))
        case 14: return .requestIDConflict(requestID: try reader.readString("request id"))
        case 15: return .limitExceeded(limit: try reader.readString("limit"), max: try reader.readInt("max", max: Int.max))
        case 16: return .unknownToken(id: try reader.readString("token id"))
        default: throw .unknownTag(what: "rejection", tag: tag, offset: at)
        }
    }
}
