import Foundation
import NIOCore
import Raft
import XCTest

@testable import RaftTransport

final class WireCodecTests: XCTestCase {
    private func bytes(_ frame: WireFrame) -> [UInt8] {
        var buffer = ByteBuffer()
        WireCodec.encode(frame, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    private func decodeError(_ input: [UInt8], maxFrameBytes: Int = WireCodec.defaultMaxFrameBytes,
                             file: StaticString = #filePath, line: UInt = #line) -> WireError? {
        do {
            let frames = try WireCodec.decodeAll(input, maxFrameBytes: maxFrameBytes)
            XCTFail("decoded \(frames) from bad input", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// A frame with a hand-built body.
    private func rawFrame(type: UInt8 = 2, body: [UInt8], version: UInt8 = 1) -> [UInt8] {
        var out = WireCodec.magic + [version, type]
        withUnsafeBytes(of: UInt32(body.count).bigEndian) { out += $0 }
        return out + body
    }

    private func be64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    // MARK: - Round trips and layout

    func testEveryPayloadCaseRoundTrips() throws {
        for message in MessageSamples.everyCase {
            let encoded = bytes(.message(message))
            XCTAssertEqual(encoded.count, WireCodec.frameBytes(of: .message(message)))
            XCTAssertEqual(try WireCodec.decodeAll(encoded), [.message(message)], "\(message.payload)")
        }
    }

    func testHandshakeAndRefuseRoundTrip() throws {
        let frames: [WireFrame] = [
            .handshake(Handshake(clusterID: "prod-eu", from: 3, to: 1)),
            .handshake(Handshake(clusterID: String(repeating: "é", count: 127), from: 1, to: .max)),
            .refuse(reason: "cluster id mismatch"),
            .refuse(reason: ""),
            .accept(node: 2),
        ]
        for frame in frames { XCTAssertEqual(try WireCodec.decodeAll(bytes(frame)), [frame]) }
    }

    func testLongRefusalReasonIsCutAtACharacterBoundary() throws {
        let frame = WireFrame.refuse(reason: String(repeating: "ü", count: 700))  // 1400 UTF-8 bytes
        guard case .refuse(let reason) = try WireCodec.decodeAll(bytes(frame)).first else { return XCTFail("not a refusal") }
        XCTAssertEqual(reason, String(repeating: "ü", count: 512))
    }

    func testRandomMessagesRoundTrip() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let message = MessageSamples.random(using: &rng, maxDataBytes: 300)
            XCTAssertEqual(try WireCodec.decodeAll(bytes(.message(message))), [.message(message)])
        }
    }

    /// The layout of docs/transport.md, byte for byte: a change here is a wire format change.
    func testHeartbeatFrameLayoutIsStable() {
        let message = Message(from: 1, to: 2, term: 3, payload: .heartbeat(Message.Heartbeat(commit: 4, readRound: 5)))
        let expected: [UInt8] = [0x4F, 0x52, 0x46, 0x54, 0x01, 0x02, 0x00, 0x00, 0x00, 0x29]
            + be64(1) + be64(2) + be64(3) + [5] + be64(4) + be64(5)
        XCTAssertEqual(bytes(.message(message)), expected)
        let handshake: [UInt8] = [0x4F, 0x52, 0x46, 0x54, 0x01, 0x01, 0x00, 0x00, 0x00, 0x13, 0x00, 0x01, 0x63] + be64(2) + be64(1)
        XCTAssertEqual(bytes(.handshake(Handshake(clusterID: "c", from: 2, to: 1))), handshake)
        XCTAssertEqual(bytes(.accept(node: 1)), [0x4F, 0x52, 0x46, 0x54, 0x01, 0x04, 0x00, 0x00, 0x00, 0x08] + be64(1))
        XCTAssertEqual(decodeError(rawFrame(type: 4, body: be64(0))), WireError(.zeroNodeID(field: "accept.node"), at: 10))
    }

    // MARK: - Errors name what and where

    func testGarbageFailsWithBadMagicAtOffsetZero() {
        let error = decodeError(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        XCTAssertEqual(error?.kind, .badMagic(Array("GET ".utf8)))
        XCTAssertEqual(error?.offset, 0)
        XCTAssertEqual(error?.description, "bad magic 0x47 0x45 0x54 0x20 (expected \"ORFT\") at byte 0")
    }

    func testUnknownVersionAndFrameTypeAreRejected() {
        let heartbeat = MessageSamples.everyCase[8]
        var frame = bytes(.message(heartbeat))
        frame[4] = 2
        XCTAssertEqual(decodeError(frame), WireError(.unsupportedVersion(2), at: 4))
        frame = bytes(.message(heartbeat))
        frame[5] = 9
        XCTAssertEqual(decodeError(frame), WireError(.unknownFrameType(9), at: 5))
    }

    func testOversizedFrameIsRejectedFromItsHeaderAlone() throws {
        var decoder = FrameDecoder(maxFrameBytes: 1024)
        decoder.append(WireCodec.magic + [1, 2, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try decoder.next()) { error in
            XCTAssertEqual(error as? WireError, WireError(.frameTooLarge(bytes: 10 + Int(UInt32.max), maxFrameBytes: 1024), at: 6))
        }
        // Exactly at the limit is fine.
        let message = Message(from: 1, to: 2, term: 1, payload: .readIndex(context: 1))
        let frame = bytes(.message(message))
        XCTAssertEqual(try WireCodec.decodeAll(frame, maxFrameBytes: frame.count), [.message(message)])
        XCTAssertEqual(decodeError(frame, maxFrameBytes: frame.count - 1)?.kind, .frameTooLarge(bytes: frame.count, maxFrameBytes: frame.count - 1))
    }

    func testForgedEntryCountFailsBeforeAllocating() {
        var frame = bytes(.message(Message(from: 1, to: 2, term: 1, payload: .append(Message.Append(prevIndex: 0, prevTerm: 0, entries: [], commit: 0)))))
        let countOffset = 10 + 24 + 1 + 24
        frame.replaceSubrange(countOffset..<countOffset + 4, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let error = decodeError(frame)
        XCTAssertEqual(error?.offset, countOffset)
        guard case .countExceedsRemaining(let field, let count, _, let remaining)? = error?.kind else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(field, "append.entries")
        XCTAssertEqual(count, UInt64(UInt32.max))
        XCTAssertEqual(remaining, 0)
    }

    func testForgedDataLengthFails() {
        let message = Message(from: 1, to: 2, term: 1, payload: .append(Message.Append(prevIndex: 0, prevTerm: 0, entries: [Entry(term: 1, index: 1, data: [1, 2, 3])], commit: 0)))
        var frame = bytes(.message(message))
        let lengthOffset = 10 + 24 + 1 + 24 + 4 + 17
        frame.replaceSubrange(lengthOffset..<lengthOffset + 4, with: [0x7F, 0, 0, 0])
        XCTAssertEqual(decodeError(frame)?.offset, lengthOffset)
    }

    func testZeroNodeIDIsRejected() {
        let body = be64(0) + be64(2) + be64(1) + [10] + be64(7)
        XCTAssertEqual(decodeError(rawFrame(body: body)), WireError(.zeroNodeID(field: "message.from"), at: 10))
        let handshake = [0, 1, 0x63] + be64(5) + be64(0)
        XCTAssertEqual(decodeError(rawFrame(type: 1, body: handshake)), WireError(.zeroNodeID(field: "handshake.to"), at: 21))
    }

    func testUnknownTagsKindsAndBoolsAreRejected() {
        let head = be64(1) + be64(2) + be64(1)
        XCTAssertEqual(decodeError(rawFrame(body: head + [0])), WireError(.unknownPayloadTag(0), at: 34))
        XCTAssertEqual(decodeError(rawFrame(body: head + [12])), WireError(.unknownPayloadTag(12), at: 34))
        let entry = be64(1) + be64(1) + [2] + [0, 0, 0, 0]
        let append = head + [1] + be64(0) + be64(0) + be64(0) + [0, 0, 0, 1] + entry
        XCTAssertEqual(decodeError(rawFrame(body: append)), WireError(.unknownEntryKind(2), at: 10 + 25 + 28 + 16))
        XCTAssertEqual(decodeError(rawFrame(body: head + [4, 1, 2])), WireError(.invalidBool(field: "voteResponse.preVote", value: 2), at: 36))
    }

    func testTruncatedAndTrailingBodiesAreRejected() {
        let head = be64(1) + be64(2) + be64(1)
        XCTAssertEqual(decodeError(rawFrame(body: head + [10] + [1, 2, 3])),
                       WireError(.truncated(field: "readIndex.context", neededBytes: 8, remainingBytes: 3), at: 35))
        XCTAssertEqual(decodeError(rawFrame(body: head + [9, 0xAA])), WireError(.trailingBytes(1), at: 35))
        let frame = bytes(.message(MessageSamples.everyCase[0]))
        XCTAssertEqual(decodeError(Array(frame.dropLast())), WireError(.incompleteFrame(haveBytes: frame.count - 1), at: 0))
    }

    func testBadMembershipIsRejected() {
        func chunk(voters: [UInt64], learners: [UInt64]) -> [UInt8] {
            var body = be64(1) + be64(2) + be64(1) + [7] + be64(10) + be64(2)
            body += [0, 0, 0, UInt8(voters.count)] + voters.flatMap(be64)
            body += [0, 0, 0, UInt8(learners.count)] + learners.flatMap(be64)
            return rawFrame(body: body + be64(0) + be64(0) + [0, 0, 0, 0])
        }
        XCTAssertNoThrow(try WireCodec.decodeAll(chunk(voters: [1, 2], learners: [3])))
        XCTAssertEqual(decodeError(chunk(voters: [1, 2, 1], learners: []))?.kind, .duplicateMember(field: "snapshot.voters", node: 1))
        // A voter that is also a learner would trip Configuration's precondition: it must be an error instead.
        XCTAssertEqual(decodeError(chunk(voters: [1, 2], learners: [2]))?.kind, .duplicateMember(field: "snapshot.learners", node: 2))
        XCTAssertEqual(decodeError(chunk(voters: [0], learners: []))?.kind, .zeroNodeID(field: "snapshot.voters"))
    }

    func testSnapshotChunkOutsideItsSnapshotIsRejected() {
        let base = be64(1) + be64(2) + be64(1) + [7] + be64(10) + be64(2) + [0, 0, 0, 0] + [0, 0, 0, 0]
        let overrun = rawFrame(body: base + be64(4) + be64(2) + [0, 0, 0, 3, 9, 9, 9])
        XCTAssertEqual(decodeError(overrun)?.kind, .valueOutOfRange(field: "snapshot.offset+data", value: 5))
        let huge = rawFrame(body: base + be64(.max) + be64(0) + [0, 0, 0, 0])
        XCTAssertEqual(decodeError(huge)?.kind, .valueOutOfRange(field: "snapshot.totalBytes", value: .max))
    }

    func testHandshakeTextIsValidated() {
        XCTAssertEqual(decodeError(rawFrame(type: 1, body: [0, 0] + be64(1) + be64(2))), WireError(.invalidText(field: "handshake.clusterID"), at: 10))
        XCTAssertEqual(decodeError(rawFrame(type: 1, body: [0, 2, 0xC3, 0x28] + be64(1) + be64(2))), WireError(.invalidText(field: "handshake.clusterID"), at: 10))
        XCTAssertEqual(decodeError(rawFrame(type: 1, body: [1, 0] + be64(1) + be64(2)))?.kind, .valueOutOfRange(field: "handshake.clusterID.length", value: 256))
    }

    // MARK: - Streaming

    func testFramesSplitAtEveryByteBoundaryDecode() throws {
        let frames: [WireFrame] = [.handshake(Handshake(clusterID: "c1", from: 1, to: 2)), .accept(node: 2)]
            + MessageSamples.everyCase.map { .message($0) } + [.refuse(reason: "bye")]
        let stream = frames.flatMap(bytes)
        for split in 0...stream.count {
            var decoder = FrameDecoder()
            var decoded: [WireFrame] = []
            decoder.append(stream[..<split])
            while let frame = try decoder.next() { decoded.append(frame) }
            decoder.append(stream[split...])
            while let frame = try decoder.next() { decoded.append(frame) }
            XCTAssertEqual(decoded, frames, "split at \(split)")
            XCTAssertEqual(decoder.bufferedBytes, 0)
            XCTAssertEqual(decoder.streamOffset, stream.count)
        }
        // One byte at a time.
        var decoder = FrameDecoder()
        var decoded: [WireFrame] = []
        for byte in stream {
            decoder.append(CollectionOfOne(byte))
            while let frame = try decoder.next() { decoded.append(frame) }
        }
        XCTAssertEqual(decoded, frames)
    }

    func testStreamErrorsCarryTheStreamOffset() {
        let first = bytes(.message(MessageSamples.everyCase[8]))
        var decoder = FrameDecoder()
        decoder.append(first + Array("garbage!!!".utf8))
        XCTAssertNoThrow(try decoder.next())
        XCTAssertThrowsError(try decoder.next()) { XCTAssertEqual(($0 as? WireError)?.offset, first.count) }
    }

    // MARK: - Fuzz

    /// Random bytes and mutated valid frames: decoding must end in frames or a WireError,
    /// never a trap, and must not depend on how the input was split.
    /// Reproduce a failure with `FUZZ_SEED=<seed> swift test --filter testFuzz`.
    func testFuzzDecoderIsTotalOnRandomAndMutatedInput() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x0F52_F7_2026
        let cases = environment["FUZZ_CASES"].flatMap { Int($0) } ?? 10_000
        // Printed first so that even a crash leaves the seed in the log.
        print("fuzz: seed \(seed), \(cases) cases (FUZZ_SEED / FUZZ_CASES to change)")
        var rng = SplitMix64(seed: seed)
        var decodedCases = 0
        var errorsByKind: [String: Int] = [:]
        let started = ContinuousClock.now
        for index in 0..<cases {
            let input = Self.fuzzInput(index: index, rng: &rng)
            let maxFrameBytes = rng.next() % 4 == 0 ? 64 + Int(rng.next() % 512) : WireCodec.defaultMaxFrameBytes
            let whole = Result { () throws(WireError) in try WireCodec.decodeAll(input, maxFrameBytes: maxFrameBytes) }
            // The same bytes in random pieces give the same frames or the same error.
            let pieces = Result { () throws(WireError) in try Self.decodeInPieces(input, maxFrameBytes: maxFrameBytes, rng: &rng) }
            XCTAssertEqual(whole, pieces, "seed \(seed) case \(index): split decoding differs; input \(input)")
            switch whole {
            case .success(let frames):
                decodedCases += 1
                // Whatever decodes must re-encode to something that decodes to the same frames.
                let again = try WireCodec.decodeAll(frames.flatMap(bytes), maxFrameBytes: .max)
                XCTAssertEqual(again, frames, "seed \(seed) case \(index): re-encoding changed frames")
            case .failure(let error):
                XCTAssert((0...input.count).contains(error.offset), "seed \(seed) case \(index): offset \(error.offset) outside input of \(input.count)")
                XCTAssertFalse(error.description.isEmpty)
                errorsByKind[Self.name(of: error.kind), default: 0] += 1
            }
        }
        let elapsed = ContinuousClock.now - started
        print("fuzz: \(cases) cases in \(elapsed): \(decodedCases) decoded, errors \(errorsByKind.sorted { $0.key < $1.key })")
        XCTAssertGreaterThan(decodedCases, cases / 20, "mutations too destructive: few inputs still decode")
        XCTAssertGreaterThan(errorsByKind.count, 8, "mutations reach too few error kinds")
    }

    private static func name(of kind: WireError.Kind) -> String {
        switch kind {
        case .badMagic: "badMagic"
        case .unsupportedVersion: "unsupportedVersion"
        case .unknownFrameType: "unknownFrameType"
        case .frameTooLarge: "frameTooLarge"
        case .truncated: "truncated"
        case .countExceedsRemaining: "countExceedsRemaining"
        case .unknownPayloadTag: "unknownPayloadTag"
        case .unknownEntryKind: "unknownEntryKind"
        case .invalidBool: "invalidBool"
        case .zeroNodeID: "zeroNodeID"
        case .valueOutOfRange: "valueOutOfRange"
        case .duplicateMember: "duplicateMember"
        case .invalidText: "invalidText"
        case .trailingBytes: "trailingBytes"
        case .incompleteFrame: "incompleteFrame"
        }
    }

    private static func decodeInPieces(_ input: [UInt8], maxFrameBytes: Int, rng: inout SplitMix64) throws(WireError) -> [WireFrame] {
        var decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
        var frames: [WireFrame] = []
        var position = 0
        while position < input.count {
            let length = min(input.count - position, 1 + Int(rng.next() % 64))
            decoder.append(input[position..<position + length])
            position += length
            while let frame = try decoder.next() { frames.append(frame) }
        }
        if decoder.bufferedBytes > 0 { throw WireError(.incompleteFrame(haveBytes: decoder.bufferedBytes), at: decoder.streamOffset) }
        return frames
    }

    private static func fuzzInput(index: Int, rng: inout SplitMix64) -> [UInt8] {
        func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        if index % 4 == 0 {
            // Random bytes; half behind a valid header prefix so they reach the body decoder.
            var input = randomBytes(Int(rng.next() % 200))
            if rng.next() % 2 == 0 {
                let body = input.count
                input = WireCodec.magic + [1, UInt8(1 + rng.next() % 3)] + withUnsafeBytes(of: UInt32(body).bigEndian) { Array($0) } + input
            }
            return input
        }
        // A valid stream of one to three frames, then one to three mutations.
        var frames: [WireFrame] = (0..<(1 + Int(rng.next() % 3))).map { _ in .message(MessageSamples.random(using: &rng, maxDataBytes: 40)) }
        if rng.next() % 8 == 0 { frames.insert(.handshake(Handshake(clusterID: "fuzz", from: 1, to: 2)), at: 0) }
        if rng.next() % 16 == 0 { frames.append(.refuse(reason: "no")) }
        if rng.next() % 16 == 0 { frames.insert(.accept(node: 1 + rng.next() % 5), at: 0) }
        var input: [UInt8] = []
        var frameStarts: [Int] = []
        for frame in frames {
            frameStarts.append(input.count)
            var buffer = ByteBuffer()
            WireCodec.encode(frame, into: &buffer)
            input += buffer.readableBytesView
        }
        for _ in 0..<(1 + Int(rng.next() % 3)) where !input.isEmpty {
            let at = Int(rng.next() % UInt64(input.count))
            switch rng.next() % 8 {
            case 0, 1:  // bit flips
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let bit = Int(rng.next() % UInt64(input.count * 8))
                    input[bit / 8] ^= 1 << (bit % 8)
                }
            case 2:  // truncation
                input.removeSubrange(at...)
            case 3, 4:  // length or count forgery: a 32-bit big-endian value at a random spot or a frame's length field
                let forged: UInt32 = [0, 1, 0xFFFF_FFFF, 0x7FFF_FFFF, UInt32(input.count), UInt32(truncatingIfNeeded: rng.next())][Int(rng.next() % 6)]
                let spot = rng.next() % 2 == 0 ? frameStarts[Int(rng.next() % UInt64(frameStarts.count))] + 6 : at
                let bytes = withUnsafeBytes(of: forged.bigEndian) { Array($0) }
                for (i, byte) in bytes.enumerated() where spot + i < input.count { input[spot + i] = byte }
            case 5:  // insertion
                input.insert(contentsOf: randomBytes(1 + Int(rng.next() % 8)), at: at)
            case 6:  // deletion
                input.removeSubrange(at..<min(input.count, at + 1 + Int(rng.next() % 8)))
            default:  // one byte set to an edge value
                input[at] = [0, 1, 2, 0x7F, 0x80, 0xFF][Int(rng.next() % 6)]
            }
        }
        return input
    }
}
