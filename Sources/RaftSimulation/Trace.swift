import Raft

/// One thing that happened in a run, kept cheaply (no string building) until a failure or
/// `SIM_TRACE` asks for it.
enum TraceEvent {
    case tick(UInt64)
    case deliver(UInt64, Message)
    case drop(UInt64, Message, String)
    case crash(UInt64, NodeID, String)
    case restart(UInt64, NodeID)
    case role(UInt64, NodeID, Role, Term)
    case note(UInt64, String)

    var description: String {
        switch self {
        case .tick(let tick): return "── tick \(tick)"
        case .deliver(let time, let message): return "\(Trace.time(time)) deliver \(Trace.describe(message))"
        case .drop(let time, let message, let why): return "\(Trace.time(time)) drop (\(why)) \(Trace.describe(message))"
        case .crash(let time, let node, let point): return "\(Trace.time(time)) CRASH node \(node) \(point)"
        case .restart(let time, let node): return "\(Trace.time(time)) RESTART node \(node)"
        case .role(let time, let node, let role, let term): return "\(Trace.time(time)) node \(node) is \(role) in term \(term)"
        case .note(let time, let text): return "\(Trace.time(time)) \(text)"
        }
    }
}

/// A ring buffer of the most recent ``TraceEvent``s.
struct Trace {
    private var events: [TraceEvent] = []
    private var next = 0
    let capacity: Int
    /// Print every event as it happens (`SIM_TRACE=1`).
    let echo: Bool

    init(capacity: Int, echo: Bool) {
        self.capacity = max(capacity, 1)
        self.echo = echo
        events.reserveCapacity(self.capacity)
    }

    mutating func record(_ event: TraceEvent) {
        if echo { print(event.description) }
        if events.count < capacity {
            events.append(event)
        } else {
            events[next] = event
            next = (next + 1) % capacity
        }
    }

    /// The newest `limit` events, oldest first, formatted.
    func recent(_ limit: Int) -> [String] {
        let ordered = Array(events[next...] + events[..<next])
        return ordered.suffix(limit).map(\.description)
    }

    static func time(_ microticks: UInt64) -> String {
        let ticks = microticks / Simulation.microticksPerTick
        let fraction = microticks % Simulation.microticksPerTick
        let padded = String(fraction)
        return "t=\(ticks).\(String(repeating: "0", count: max(0, 3 - padded.count)))\(padded)"
    }

    static func describe(_ m: Message) -> String {
        let head = "\(m.from)→\(m.to) t\(m.term)"
        switch m.payload {
        case .append(let a):
            let span = a.entries.isEmpty ? "none" : "\(a.entries.first!.index)…\(a.entries.last!.index)"
            return "\(head) append prev \(a.prevIndex)/\(a.prevTerm) entries \(span) commit \(a.commit)"
        case .appendResponse(let r):
            return "\(head) appendResponse \(r.reject ? "REJECT" : "ok") index \(r.index) hint \(r.hintIndex)/\(r.hintTerm)"
        case .vote(let v):
            return "\(head) \(v.preVote ? "preVote" : "vote") last \(v.lastIndex)/\(v.lastTerm)\(v.transfer ? " transfer" : "")"
        case .voteResponse(let r):
            return "\(head) \(r.preVote ? "preVote" : "vote")Response \(r.granted ? "granted" : "rejected")"
        case .heartbeat(let h): return "\(head) heartbeat commit \(h.commit) round \(h.readRound)"
        case .heartbeatResponse(let h): return "\(head) heartbeatResponse round \(h.readRound)"
        case .snapshotChunk(let c):
            return "\(head) snapshotChunk @\(c.metadata.index)/\(c.metadata.term) bytes \(c.offset)+\(c.data.count)/\(c.totalBytes)"
        case .snapshotChunkResponse(let r):
            return "\(head) snapshotChunkResponse @\(r.snapshotIndex) next \(r.nextOffset)\(r.reject ? " REJECT" : "")"
        case .timeoutNow: return "\(head) timeoutNow"
        case .readIndex(let context): return "\(head) readIndex ctx \(context)"
        case .readIndexResponse(let index, let context): return "\(head) readIndexResponse index \(index) ctx \(context)"
        }
    }
}
