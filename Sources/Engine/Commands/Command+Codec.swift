import Workflow

/// The binary encoding of commands, the bytes of a log entry.
///
/// ```
/// byte 0      format version (2; version 1, without the actor, is still read)
/// byte 1      tag: 1 registerWorkflow, 2 startInstance, 3 transition, 4 hookResult,
///             5 cronFire, 6 timerFire, 7 purgeInstances, 8 createToken, 9 revokeToken
/// bytes 2-9   proposedAtMillis, Int64 little-endian
/// then        requestID (optional string), actor (optional string, version 2), then the
///             tag's fields
/// ```
///
/// Strings are a varint length and UTF-8; optionals a 0/1 byte then the value; data objects
/// use the `JSONValue` binary form with sorted keys. The layout is in docs/engine.md.
extension Command {
    /// The encoding version this build writes; it reads `formatVersion` and 1 (before actors).
    public static let formatVersion: UInt8 = 2

    /// Command tags. Decoding any other tag is an error naming it.
    enum Tag: UInt8 {
        case registerWorkflow = 1
        case startInstance = 2
        case transition = 3
        case hookResult = 4
        case cronFire = 5
        case timerFire = 6
        case purgeInstances = 7
        case createToken = 8
        case revokeToken = 9
    }

    /// The command as log entry bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 96)
        writer.writeByte(Command.formatVersion)
        switch self {
        case .registerWorkflow(let command):
            writer.writeByte(Tag.registerWorkflow.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(command.requestID)
            writer.writeOptionalString(command.actor)
            writer.writeString(command.hash)
            writer.writeBlob(Command.definitionBytes(command.definition))
        case .startInstance(let command):
            writer.writeByte(Tag.startInstance.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(command.requestID)
            writer.writeOptionalString(command.actor)
            writer.writeString(command.workflow)
            if let version = command.version {
                writer.writeBool(true)
                writer.writeSigned(Int64(version))
            } else {
                writer.writeBool(false)
            }
            writer.writeString(command.id)
            Command.writeOptionalMembers(command.data, to: &writer)
        case .transition(let command):
            writer.writeByte(Tag.transition.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(command.requestID)
            writer.writeOptionalString(command.actor)
            writer.writeString(command.instance)
            writer.writeOptionalString(command.name)
            writer.writeOptionalString(command.to)
            writer.writeOptionalString(command.expect)
            Command.writeOptionalMembers(command.dataPatch, to: &writer)
        case .hookResult(let command):
            writer.writeByte(Tag.hookResult.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(nil)
            writer.writeOptionalString(nil)
            writer.writeString(command.dispatchID)
            writer.writeCount(command.attempt)
            switch command.result {
            case .succeeded: writer.writeByte(1)
            case .retryableFailure: writer.writeByte(2)
            case .failed(let code):
                writer.writeByte(3)
                writer.writeSigned(Int64(code))
            case .signalled(let signal):
                writer.writeByte(4)
                writer.writeSigned(Int64(signal))
            case .timedOut: writer.writeByte(5)
            case .couldNotStart(let reason):
                writer.writeByte(6)
                writer.writeString(reason)
            }
            writer.writeSigned(command.durationMillis)
            writer.writeString(command.stdout)
            writer.writeString(command.stderr)
            writer.writeBool(command.stdoutTruncated)
            writer.writeBool(command.stderrTruncated)
            Command.writeOptionalMembers(command.dataPatch, to: &writer)
        case .cronFire(let command):
            writer.writeByte(Tag.cronFire.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(nil)
            writer.writeOptionalString(nil)
            writer.writeCount(command.slots.count)
            for slot in command.slots {
                writer.writeString(slot.workflow)
                writer.writeString(slot.trigger)
                writer.writeSigned(slot.slotMillis)
                writer.writeCount(slot.missed)
            }
        case .timerFire(let command):
            writer.writeByte(Tag.timerFire.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(nil)
            writer.writeOptionalString(nil)
            writer.writeCount(command.timers.count)
            for timer in command.timers {
                writer.writeString(timer.instance)
                writer.writeVarint(timer.revision)
            }
        case .purgeInstances(let command):
            writer.writeByte(Tag.purgeInstances.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(nil)
            writer.writeOptionalString(nil)
            writer.writeBool(command.defaultRetentionMillis != nil)
            if let retention = command.defaultRetentionMillis { writer.writeSigned(retention) }
            writer.writeCount(command.ids.count)
            for id in command.ids { writer.writeString(id) }
        case .createToken(let command):
            writer.writeByte(Tag.createToken.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(command.requestID)
            writer.writeOptionalString(command.actor)
            writer.writeString(command.id)
            writer.writeByte(command.role.rawValue)
            writer.writeString(command.name)
            writer.writeBlob(command.digest)
            writer.writeBool(command.ttlMillis != nil)
            if let ttl = command.ttlMillis { writer.writeSigned(ttl) }
            writer.writeBool(command.bootstrap)
        case .revokeToken(let command):
            writer.writeByte(Tag.revokeToken.rawValue)
            writer.writeFixed64(UInt64(bitPattern: command.proposedAtMillis))
            writer.writeOptionalString(command.requestID)
            writer.writeOptionalString(command.actor)
            writer.writeString(command.id)
        }
        return writer.bytes
    }

    /// Decodes log entry bytes written by `encoded()`. Any malformed input — truncated,
    /// trailing bytes, bad UTF-8, an unknown or reserved tag, another format version — throws
    /// a `DecodeError` describing it; nothing traps.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> Command {
        var reader = ByteReader(bytes)
        let version = try reader.readByte("command version")
        guard version == formatVersion || version == 1 else {
            throw .unsupportedVersion(what: "command", version: version, supported: formatVersion)
        }
        let tagOffset = reader.offset
        let rawTag = try reader.readByte("command tag")
        guard let tag = Tag(rawValue: rawTag) else {
            throw .unknownTag(what: "command", tag: rawTag, offset: tagOffset)
        }
        let proposedAtMillis = Int64(bitPattern: try reader.readFixed64("proposedAtMillis"))
        let requestID = try reader.readOptionalString("request id")
        let actor = version >= 2 ? try reader.readOptionalString("actor") : nil
        let command: Command
        switch tag {
        case .registerWorkflow:
            let hash = try reader.readString("definition hash")
            let blobOffset = reader.offset
            let blob = try reader.readBlob("workflow definition")
            let definition: WorkflowDefinition
            do {
                definition = try CanonicalCoder.decode(WorkflowDefinition.self, from: blob)
            } catch let error as DecodeError {
                throw .invalid(what: "workflow definition", offset: blobOffset, reason: error.description)
            } catch {
                throw .invalid(what: "workflow definition", offset: blobOffset, reason: "\(error)")
            }
            command = .registerWorkflow(RegisterWorkflow(definition: definition, hash: hash, requestID: requestID, actor: actor,
                                                         proposedAtMillis: proposedAtMillis))
        case .startInstance:
            let workflow = try reader.readString("workflow name")
            var version: Int?
            if try reader.readBool("version present") {
                // Any Int decodes; apply rejects versions below 1 (`invalid_argument`), as it
                // does for a command built in memory.
                let at = reader.offset
                let raw = try reader.readSigned("version")
                guard let exact = Int(exactly: raw) else {
                    throw .invalid(what: "version", offset: at, reason: "\(raw) does not fit an Int")
                }
                version = exact
            }
            let id = try reader.readString("instance id")
            let data = try readOptionalMembers(from: &reader, what: "instance data")
            command = .startInstance(StartInstance(workflow: workflow, version: version, id: id, data: data,
                                                   requestID: requestID, actor: actor, proposedAtMillis: proposedAtMillis))
        case .transition:
            let instance = try reader.readString("instance id")
            let name = try reader.readOptionalString("transition name")
            let to = try reader.readOptionalString("target state")
            let expect = try reader.readOptionalString("expected state")
            let patch = try readOptionalMembers(from: &reader, what: "data patch")
            command = .transition(TransitionRequest(instance: instance, name: name, to: to, expect: expect, dataPatch: patch,
                                                    requestID: requestID, actor: actor, proposedAtMillis: proposedAtMillis))
        case .hookResult:
            let dispatchID = try reader.readString("dispatch id")
            let attempt = try reader.readInt("attempt")
            let resultAt = reader.offset
            let result: HookResult.Result
            switch try reader.readByte("hook result") {
            case 1: result = .succeeded
            case 2: result = .retryableFailure
            case 3: result = .failed(exitCode: Int32(truncatingIfNeeded: try reader.readSigned("exit code")))
            case 4: result = .signalled(signal: Int32(truncatingIfNeeded: try reader.readSigned("signal")))
            case 5: result = .timedOut
            case 6: result = .couldNotStart(reason: try reader.readString("reason"))
            case let other: throw .unknownTag(what: "hook result", tag: other, offset: resultAt)
            }
            let duration = try reader.readSigned("duration")
            let stdout = try reader.readString("stdout")
            let stderr = try reader.readString("stderr")
            let stdoutTruncated = try reader.readBool("stdout truncated")
            let stderrTruncated = try reader.readBool("stderr truncated")
            let patch = try readOptionalMembers(from: &reader, what: "data patch")
            command = .hookResult(HookResult(dispatchID: dispatchID, attempt: attempt, result: result, durationMillis: duration,
                                             stdout: stdout, stderr: stderr, stdoutTruncated: stdoutTruncated,
                                             stderrTruncated: stderrTruncated, dataPatch: patch,
                                             proposedAtMillis: proposedAtMillis))
        case .cronFire:
            let count = try reader.readCount("slot count", minBytesEach: 4)
            var slots: [CronSlot] = []
            slots.reserveCapacity(count)
            for _ in 0..<count {
                slots.append(CronSlot(workflow: try reader.readString("workflow name"), trigger: try reader.readString("trigger name"),
                                      slotMillis: try reader.readSigned("slot"), missed: try reader.readInt("missed slots")))
            }
            command = .cronFire(CronFire(slots: slots, proposedAtMillis: proposedAtMillis))
        case .timerFire:
            let count = try reader.readCount("timer count", minBytesEach: 2)
            var timers: [TimerSlot] = []
            timers.reserveCapacity(count)
            for _ in 0..<count {
                timers.append(TimerSlot(instance: try reader.readString("instance id"), revision: try reader.readVarint("revision")))
            }
            command = .timerFire(TimerFire(timers: timers, proposedAtMillis: proposedAtMillis))
        case .purgeInstances:
            let retention: Int64? = try reader.readBool("has default retention") ? try reader.readSigned("default retention") : nil
            let count = try reader.readCount("instance count", minBytesEach: 1)
            var ids: [String] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(try reader.readString("instance id")) }
            command = .purgeInstances(PurgeInstances(ids: ids, defaultRetentionMillis: retention, proposedAtMillis: proposedAtMillis))
        case .createToken:
            let id = try reader.readString("token id")
            let role = try TokenRole.read(from: &reader)
            let name = try reader.readString("token name")
            let digest = try reader.readBlob("token digest")
            let ttl: Int64? = try reader.readBool("has ttl") ? try reader.readSigned("ttl") : nil
            let bootstrap = try reader.readBool("bootstrap")
            command = .createToken(CreateToken(id: id, role: role, name: name, digest: digest, ttlMillis: ttl, bootstrap: bootstrap,
                                               actor: actor, requestID: requestID, proposedAtMillis: proposedAtMillis))
        case .revokeToken:
            command = .revokeToken(RevokeToken(id: try reader.readString("token id"), actor: actor, requestID: requestID,
                                               proposedAtMillis: proposedAtMillis))
        }
        try reader.expectEnd("command")
        return command
    }

    /// Replaces `proposedAtMillis` in already encoded command bytes, without decoding them:
    /// how a leader stamps a command a follower forwarded as bytes. Returns false (and leaves
    /// `bytes` alone) when they are not a command of this format version.
    ///
    /// ```swift
    /// guard Command.stamp(&entry, atMillis: clock.nowMillis) else { throw … }
    /// ```
    public static func stamp(_ bytes: inout [UInt8], atMillis millis: Int64) -> Bool {
        guard bytes.count >= 10, bytes[0] == formatVersion || bytes[0] == 1 else { return false }
        let value = UInt64(bitPattern: millis)
        for offset in 0..<8 { bytes[2 + offset] = UInt8(truncatingIfNeeded: value >> UInt64(offset * 8)) }
        return true
    }

    /// A 64-bit fingerprint of what the command asks for: its bytes without `proposedAtMillis`
    /// (FNV-1a). Two proposals of the same request — a client's retry — have equal
    /// fingerprints; reusing a request id for a different request does not.
    static func fingerprint(ofEncoded bytes: [UInt8]) -> UInt64 {
        var hash = FNV1a64()
        for (position, byte) in bytes.enumerated() where position < 2 || position >= 10 {
            hash.add(byte)
        }
        return hash.value
    }

    var fingerprint: UInt64 { Command.fingerprint(ofEncoded: encoded()) }

    static func definitionBytes(_ definition: WorkflowDefinition) -> [UInt8] {
        do {
            return try CanonicalCoder.encode(definition)
        } catch {
            // The tree encoder never throws and WorkflowDefinition only forwards its errors.
            preconditionFailure("encoding a WorkflowDefinition failed: \(error)")
        }
    }

    private static func writeOptionalMembers(_ members: [String: JSONValue]?, to writer: inout ByteWriter) {
        if let members {
            writer.writeBool(true)
            JSONValue.writeMembers(members, to: &writer)
        } else {
            writer.writeBool(false)
        }
    }

    private static func readOptionalMembers(from reader: inout ByteReader, what: String) throws(DecodeError) -> [String: JSONValue]? {
        try reader.readBool("\(what) present") ? try JSONValue.readMembers(from: &reader) : nil
    }
}

/// 64-bit FNV-1a: a fast, stable hash for fingerprints and snapshot checksums (not for
/// security: nothing here defends against a forger).
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    mutating func add<Bytes: Sequence>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes { add(byte) }
    }
}
