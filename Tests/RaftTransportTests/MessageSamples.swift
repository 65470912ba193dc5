import Raft

/// Messages for the codec and transport tests: one fixed sample of every payload case, and
/// a seeded generator of random ones.
enum MessageSamples {
    static let configuration = Configuration(voters: [1, 2, 3], learners: [7])

    /// One message of every payload case (`Message.Payload`), with non-trivial values.
    static let everyCase: [Message] = [
        Message(from: 1, to: 2, term: 5, payload: .append(Message.Append(prevIndex: 10, prevTerm: 4, entries: [
            Entry(term: 5, index: 11, kind: .normal, data: Array("hello".utf8)),
            Entry(term: 5, index: 12, kind: .configChange, data: [0, 1, 2, 255]),
            Entry(term: 5, index: 13),
        ], commit: 9))),
        Message(from: 1, to: 2, term: 5, payload: .append(Message.Append(prevIndex: 0, prevTerm: 0, entries: [], commit: 0))),
        Message(from: 2, to: 1, term: 5, payload: .appendResponse(Message.AppendResponse(index: 13))),
        Message(from: 2, to: 1, term: 5, payload: .appendResponse(Message.AppendResponse(index: 10, reject: true, hintIndex: 8, hintTerm: 3))),
        Message(from: 3, to: 1, term: 6, payload: .vote(Message.VoteRequest(lastIndex: 13, lastTerm: 5, preVote: true))),
        Message(from: 3, to: 1, term: 6, payload: .vote(Message.VoteRequest(lastIndex: 13, lastTerm: 5, preVote: false, transfer: true))),
        Message(from: 1, to: 3, term: 6, payload: .voteResponse(Message.VoteResponse(granted: true, preVote: false))),
        Message(from: 1, to: 3, term: 6, payload: .voteResponse(Message.VoteResponse(granted: false, preVote: true))),
        Message(from: 1, to: 2, term: 7, payload: .heartbeat(Message.Heartbeat(commit: 13, readRound: 42))),
        Message(from: 2, to: 1, term: 7, payload: .heartbeatResponse(Message.HeartbeatResponse(readRound: 42))),
        Message(from: 1, to: 2, term: 7, payload: .snapshotChunk(Message.SnapshotChunk(
            metadata: SnapshotMetadata(index: 100, term: 6, configuration: configuration),
            totalBytes: 10, offset: 4, data: [1, 2, 3, 4, 5, 6]))),
        Message(from: 1, to: 2, term: 7, payload: .snapshotChunk(Message.SnapshotChunk(
            metadata: SnapshotMetadata(index: 1, term: 1, configuration: Configuration()), totalBytes: 0, offset: 0, data: []))),
        Message(from: 2, to: 1, term: 7, payload: .snapshotChunkResponse(Message.SnapshotChunkResponse(snapshotIndex: 100, nextOffset: 10, reject: false))),
        Message(from: 2, to: 1, term: 7, payload: .snapshotChunkResponse(Message.SnapshotChunkResponse(snapshotIndex: 100, nextOffset: 0, reject: true))),
        Message(from: 1, to: 3, term: 8, payload: .timeoutNow),
        Message(from: 2, to: 1, term: 8, payload: .readIndex(context: 0xDEAD_BEEF)),
        Message(from: 1, to: 2, term: 8, payload: .readIndexResponse(index: 99, context: 0xDEAD_BEEF)),
        Message(from: .max, to: .max - 1, term: .max, payload: .heartbeat(Message.Heartbeat(commit: .max, readRound: .max))),
    ]

    /// A random message of a random payload case; data sizes up to `maxDataBytes`.
    static func random(using rng: inout SplitMix64, maxDataBytes: Int = 64) -> Message {
        func id() -> NodeID { rng.next() % 4 == 0 ? rng.next() | 1 : 1 + rng.next() % 9 }
        func u64() -> UInt64 { rng.next() % 2 == 0 ? rng.next() % 1000 : rng.next() }
        func bool() -> Bool { rng.next() % 2 == 0 }
        func bytes() -> [UInt8] { (0..<Int(rng.next() % UInt64(maxDataBytes + 1))).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        let payload: Message.Payload
        switch rng.next() % 11 {
        case 0:
            let entries = (0..<Int(rng.next() % 5)).map { _ in
                Entry(term: u64(), index: u64(), kind: bool() ? .normal : .configChange, data: bytes())
            }
            payload = .append(Message.Append(prevIndex: u64(), prevTerm: u64(), entries: entries, commit: u64()))
        case 1: payload = .appendResponse(Message.AppendResponse(index: u64(), reject: bool(), hintIndex: u64(), hintTerm: u64()))
        case 2: payload = .vote(Message.VoteRequest(lastIndex: u64(), lastTerm: u64(), preVote: bool(), transfer: bool()))
        case 3: payload = .voteResponse(Message.VoteResponse(granted: bool(), preVote: bool()))
        case 4: payload = .heartbeat(Message.Heartbeat(commit: u64(), readRound: u64()))
        case 5: payload = .heartbeatResponse(Message.HeartbeatResponse(readRound: u64()))
        case 6:
            var voters = Set<NodeID>(), learners = Set<NodeID>()
            for _ in 0..<Int(rng.next() % 6) { voters.insert(id()) }
            for _ in 0..<Int(rng.next() % 3) { let l = id(); if !voters.contains(l) { learners.insert(l) } }
            let data = bytes()
            let offset = Int(rng.next() % 1000)
            let total = offset + data.count + Int(rng.next() % 1000)
            payload = .snapshotChunk(Message.SnapshotChunk(
                metadata: SnapshotMetadata(index: u64(), term: u64(), configuration: Configuration(voters: voters, learners: learners)),
                totalBytes: total, offset: offset, data: data))
        case 7: payload = .snapshotChunkResponse(Message.SnapshotChunkResponse(snapshotIndex: u64(), nextOffset: Int(rng.next() >> 1), reject: bool()))
        case 8: payload = .timeoutNow
        case 9: payload = .readIndex(context: u64())
        default: payload = .readIndexResponse(index: u64(), context: u64())
        }
        return Message(from: id(), to: id(), term: u64(), payload: payload)
    }
}
