import NIOCore
import Raft

/// The versioned binary encoding of Raft messages (and the handshake) on the wire.
///
/// A frame is a 10-byte header — magic `"ORFT"`, version (1 byte), frame type (1 byte),
/// body length (UInt32, big-endian) — followed by the body. All integers are fixed-width
/// big-endian; byte arrays and text carry a length prefix. docs/transport.md has the
/// layout byte by byte.
///
/// ```swift
/// var buffer = ByteBuffer()
/// WireCodec.encode(.message(message), into: &buffer)
/// var decoder = FrameDecoder(maxFrameBytes: WireCodec.defaultMaxFrameBytes)
/// decoder.append(buffer)
/// let frame = try decoder.next()   // .message(message)
/// ```
public enum WireCodec {
    /// `"ORFT"`: the first four bytes of every frame.
    public static let magic: [UInt8] = [0x4F, 0x52, 0x46, 0x54]
    /// The version this build writes.
    public static let currentVersion: UInt8 = 1
    /// The versions this build reads.
    public static let supportedVersions: ClosedRange<UInt8> = 1...1
    /// Bytes in a frame header.
    public static let headerBytes = 10
    /// Default upper bound on one frame (header + body): 64 MiB. Checked from the header,
    /// before any body byte is buffered.
    public static let defaultMaxFrameBytes = 64 << 20
    /// Longest cluster id, in UTF-8 bytes.
    public static let maxClusterIDBytes = 255
    /// Longest refusal reason, in UTF-8 bytes (longer reasons are cut when encoding).
    public static let maxReasonBytes = 1024

    /// Payload tags (one byte after the message's from/to/term).
    enum Tag: UInt8 {
        case append = 1, appendResponse, vote, voteResponse, heartbeat, heartbeatResponse
        case snapshotChunk, snapshotChunkResponse, timeoutNow, readIndex, readIndexResponse
    }

    /// Smallest possible encoding of one entry (term, index, kind, data length): bounds forged counts.
    static let minEntryBytes = 8 + 8 + 1 + 4

    // MARK: - Encoding

    /// Appends one frame to `buffer`.
    ///
    /// Preconditions (guaranteed by the Raft core): snapshot offsets and sizes are
    /// non-negative; the cluster id is 1...255 UTF-8 bytes.
    public static func encode(_ frame: WireFrame, into buffer: inout ByteBuffer) {
        let bodyBytes = bodySize(of: frame)
        precondition(bodyBytes <= Int(UInt32.max), "frame body of \(bodyBytes) bytes cannot be framed")
        buffer.reserveCapacity(minimumWritableBytes: headerBytes + bodyBytes)
        buffer.writeBytes(magic)
        buffer.writeInteger(currentVersion)
        buffer.writeInteger(frame.frameType.rawValue)
        buffer.writeInteger(UInt32(bodyBytes), endianness: .big)
        let bodyStart = buffer.writerIndex
        switch frame {
        case .handshake(let handshake):
            let id = Array(handshake.clusterID.utf8)
            precondition((1...maxClusterIDBytes).contains(id.count), "cluster id must be 1...\(maxClusterIDBytes) UTF-8 bytes")
            buffer.writeInteger(UInt16(id.count), endianness: .big)
            buffer.writeBytes(id)
            buffer.writeInteger(handshake.from, endianness: .big)
            buffer.writeInteger(handshake.to, endianness: .big)
        case .message(let message):
            writeMessage(message, into: &buffer)
        case .refuse(let reason):
            let text = truncatedReason(reason)
            buffer.writeInteger(UInt16(text.count), endianness: .big)
            buffer.writeBytes(text)
        case .accept(let node):
            precondition(node != 0, "node id 0 means none")
            buffer.writeInteger(node, endianness: .big)
        }
        assert(buffer.writerIndex - bodyStart == bodyBytes, "bodySize disagrees with the encoder")
    }

    /// One message as a standalone frame.
    public static func encode(_ message: Message) -> ByteBuffer {
        let frame = WireFrame.message(message)
        var buffer = ByteBufferAllocator().buffer(capacity: frameBytes(of: frame))
        encode(frame, into: &buffer)
        return buffer
    }

    /// Total bytes (header + body) `frame` takes on the wire.
    public static func frameBytes(of frame: WireFrame) -> Int { headerBytes + bodySize(of: frame) }

    static func truncatedReason(_ reason: String) -> [UInt8] {
        var text = Array(reason.utf8.prefix(maxReasonBytes))
        // Do not cut a multi-byte character in half.
        while String(validating: text, as: UTF8.self) == nil { text.removeLast() }
        return text
    }

    static func bodySize(of frame: WireFrame) -> Int {
        switch frame {
        case .handshake(let handshake): return 2 + handshake.clusterID.utf8.count + 16
        case .refuse(let reason): return 2 + truncatedReason(reason).count
        case .accept: return 8
        case .message(let message): return 8 * 3 + 1 + payloadSize(message.payload)
        }
    }

    static func payloadSize(_ payload: Message.Payload) -> Int {
        switch payload {
        case .append(let append):
            return 24 + 4 + append.entries.reduce(0) { $0 + minEntryBytes + $1.data.count }
        case .appendResponse: return 8 + 1 + 8 + 8
        case .vote: return 8 + 8 + 1 + 1
        case .voteResponse: return 2
        case .heartbeat: return 16
        case .heartbeatResponse: return 8
        case .snapshotChunk(let chunk):
            let configuration = chunk.metadata.configuration
            return 16 + 4 + 8 * configuration.voters.count + 4 + 8 * configuration.learners.count + 8 + 8 + 4 + chunk.data.count
        case .snapshotChunkResponse: return 8 + 8 + 1
        case .timeoutNow: return 0
        case .readIndex: return 8
        case .readIndexResponse: return 16
        }
    }

    static func writeMessage(_ message: Message, into buffer: inout ByteBuffer) {
        buffer.writeInteger(message.from, endianness: .big)
        buffer.writeInteger(message.to, endianness: .big)
        buffer.writeInteger(message.term, endianness: .big)
        func u64(_ value: UInt64) { buffer.writeInteger(value, endianness: .big) }
        func int(_ value: Int) {
            precondition(value >= 0, "negative size or offset \(value) in a message")
            u64(UInt64(value))
        }
        func bool(_ value: Bool) { buffer.writeInteger(UInt8(value ? 1 : 0)) }
        func bytes(_ value: [UInt8]) {
            buffer.writeInteger(UInt32(value.count), endianness: .big)
            buffer.writeBytes(value)
        }
        func tag(_ tag: Tag) { buffer.writeInteger(tag.rawValue) }
        switch message.payload {
        case .append(let append):
            tag(.append)
            u64(append.prevIndex); u64(append.prevTerm); u64(append.commit)
            buffer.writeInteger(UInt32(append.entries.count), endianness: .big)
            for entry in append.entries {
                u64(entry.term); u64(entry.index)
                buffer.writeInteger(entry.kind.rawValue)
                bytes(entry.data)
            }
        case .appendResponse(let response):
            tag(.appendResponse)
            u64(response.index); bool(response.reject); u64(response.hintIndex); u64(response.hintTerm)
        case .vote(let vote):
            tag(.vote)
            u64(vote.lastIndex); u64(vote.lastTerm); bool(vote.preVote); bool(vote.transfer)
        case .voteResponse(let response):
            tag(.voteResponse)
            bool(response.granted); bool(response.preVote)
        case .heartbeat(let heartbeat):
            tag(.heartbeat)
            u64(heartbeat.commit); u64(heartbeat.readRound)
        case .heartbeatResponse(let response):
            tag(.heartbeatResponse)
            u64(response.readRound)
        case .snapshotChunk(let chunk):
            tag(.snapshotChunk)
            u64(chunk.metadata.index); u64(chunk.metadata.term)
            for members in [chunk.metadata.configuration.voters, chunk.metadata.configuration.learners] {
                buffer.writeInteger(UInt32(members.count), endianness: .big)
                for id in members.sorted() { u64(id) }
            }
            int(chunk.totalBytes); int(chunk.offset)
            bytes(chunk.data)
        case .snapshotChunkResponse(let response):
            tag(.snapshotChunkResponse)
            u64(response.snapshotIndex); int(response.nextOffset); bool(response.reject)
        case .timeoutNow:
            tag(.timeoutNow)
        case .readIndex(let context):
            tag(.readIndex)
            u64(context)
        case .readIndexResponse(let index, let context):
            tag(.readIndexResponse)
            u64(index); u64(context)
        }
    }

    // MARK: - Decoding

    /// Decodes every frame in `bytes`, which must hold whole frames only.
    ///
    /// - Throws: ``WireError`` for any malformed, oversized or incomplete frame.
    public static func decodeAll(_ bytes: [UInt8], maxFrameBytes: Int = defaultMaxFrameBytes) throws(WireError) -> [WireFrame] {
        var decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
        decoder.append(bytes)
        var frames: [WireFrame] = []
        while let frame = try decoder.next() { frames.append(frame) }
        if decoder.bufferedBytes > 0 {
            throw WireError(.incompleteFrame(haveBytes: decoder.bufferedBytes), at: decoder.streamOffset)
        }
        return frames
    }

    /// Decodes one frame body. `reader` covers exactly the body.
    static func decodeBody(type: WireFrame.FrameType, _ reader: inout WireReader) throws(WireError) -> WireFrame {
        let frame: WireFrame
        switch type {
        case .handshake:
            let clusterID = try reader.readText("handshake.clusterID", maxBytes: maxClusterIDBytes, allowEmpty: false)
            let from = try reader.readNodeID("handshake.from")
            let to = try reader.readNodeID("handshake.to")
            frame = .handshake(Handshake(clusterID: clusterID, from: from, to: to))
        case .refuse:
            frame = .refuse(reason: try reader.readText("refuse.reason", maxBytes: maxReasonBytes, allowEmpty: true))
        case .message:
            frame = .message(try readMessage(&reader))
        case .accept:
            frame = .accept(node: try reader.readNodeID("accept.node"))
        }
        if reader.remaining > 0 { throw WireError(.trailingBytes(reader.remaining), at: reader.offset) }
        return frame
    }

    static func readMessage(_ r: inout WireReader) throws(WireError) -> Message {
        let from = try r.readNodeID("message.from")
        let to = try r.readNodeID("message.to")
        let term = try r.readU64("message.term")
        let tagOffset = r.offset
        let rawTag = try r.readU8("message.tag")
        guard let tag = Tag(rawValue: rawTag) else { throw WireError(.unknownPayloadTag(rawTag), at: tagOffset) }
        let payload: Message.Payload
        switch tag {
        case .append:
            let prevIndex = try r.readU64("append.prevIndex")
            let prevTerm = try r.readU64("append.prevTerm")
            let commit = try r.readU64("append.commit")
            let count = try r.readCount("append.entries", minimumBytesEach: minEntryBytes)
            var entries: [Entry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let entryTerm = try r.readU64("entry.term")
                let index = try r.readU64("entry.index")
                let kindOffset = r.offset
                let rawKind = try r.readU8("entry.kind")
                guard let kind = EntryKind(rawValue: rawKind) else { throw WireError(.unknownEntryKind(rawKind), at: kindOffset) }
                let data = try r.readBytes("entry.data")
                entries.append(Entry(term: entryTerm, index: index, kind: kind, data: data))
            }
            payload = .append(Message.Append(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit))
        case .appendResponse:
            let index = try r.readU64("appendResponse.index")
            let reject = try r.readBool("appendResponse.reject")
            let hintIndex = try r.readU64("appendResponse.hintIndex")
            let hintTerm = try r.readU64("appendResponse.hintTerm")
            payload = .appendResponse(Message.AppendResponse(index: index, reject: reject, hintIndex: hintIndex, hintTerm: hintTerm))
        case .vote:
            let lastIndex = try r.readU64("vote.lastIndex")
            let lastTerm = try r.readU64("vote.lastTerm")
            let preVote = try r.readBool("vote.preVote")
            let transfer = try r.readBool("vote.transfer")
            payload = .vote(Message.VoteRequest(lastIndex: lastIndex, lastTerm: lastTerm, preVote: preVote, transfer: transfer))
        case .voteResponse:
            let granted = try r.readBool("voteResponse.granted")
            let preVote = try r.readBool("voteResponse.preVote")
            payload = .voteResponse(Message.VoteResponse(granted: granted, preVote: preVote))
        case .heartbeat:
            let commit = try r.readU64("heartbeat.commit")
            let readRound = try r.readU64("heartbeat.readRound")
            payload = .heartbeat(Message.Heartbeat(commit: commit, readRound: readRound))
        case .heartbeatResponse:
            payload = .heartbeatResponse(Message.HeartbeatResponse(readRound: try r.readU64("heartbeatResponse.readRound")))
        case .snapshotChunk:
            let index = try r.readU64("snapshot.index")
            let snapshotTerm = try r.readU64("snapshot.term")
            let voters = try r.readMembers("snapshot.voters", excluding: [])
            let learners = try r.readMembers("snapshot.learners", excluding: voters)
            let totalOffset = r.offset
            let totalBytes = try r.readInt("snapshot.totalBytes")
            let offset = try r.readInt("snapshot.offset")
            let data = try r.readBytes("snapshot.data")
            // The core always sends chunks inside the snapshot; anything else is corrupt.
            guard offset <= totalBytes, data.count <= totalBytes - offset else {
                throw WireError(.valueOutOfRange(field: "snapshot.offset+data", value: UInt64(offset) &+ UInt64(data.count)), at: totalOffset)
            }
            let metadata = SnapshotMetadata(index: index, term: snapshotTerm, configuration: Configuration(voters: voters, learners: learners))
            payload = .snapshotChunk(Message.SnapshotChunk(metadata: metadata, totalBytes: totalBytes, offset: offset, data: data))
        case .snapshotChunkResponse:
            let snapshotIndex = try r.readU64("snapshotResponse.snapshotIndex")
            let nextOffset = try r.readInt("snapshotResponse.nextOffset")
            let reject = try r.readBool("snapshotResponse.reject")
            payload = .snapshotChunkResponse(Message.SnapshotChunkResponse(snapshotIndex: snapshotIndex, nextOffset: nextOffset, reject: reject))
        case .timeoutNow:
            payload = .timeoutNow
        case .readIndex:
            payload = .readIndex(context: try r.readU64("readIndex.context"))
        case .readIndexResponse:
            let index = try r.readU64("readIndexResponse.index")
            let context = try r.readU64("readIndexResponse.context")
            payload = .readIndexResponse(index: index, context: context)
        }
        return Message(from: from, to: to, term: term, payload: payload)
    }
}
