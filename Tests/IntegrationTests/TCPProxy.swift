import Foundation

/// A TCP forwarder on a loopback port that a test can cut. Put one between each ordered pair
/// of nodes to partition a cluster of real processes. Two ways to cut:
///
/// - `block`: closes every connection it carries and refuses new ones (a crashed host, or a
///   firewall that answers with resets: both ends see the connection die at once).
/// - `blackhole`: what a real partition does: packets vanish, nobody is told. Connections it
///   carries stay open and their bytes are swallowed; new ones are accepted and swallowed
///   too. After `unblock` only new connections carry bytes again: a connection from before
///   (or during) the cut stays silent for good, standing for TCP whose retransmissions have
///   backed off to seconds, so the nodes must notice the dead connection and dial again.
final class TCPProxy: @unchecked Sendable {
    // Safety: `blocked`, `blackholed`, `pairs`, `sockets` and `stopped` are only touched while
    // holding `lock`; the listening socket is created in `init` and closed once in `stop`.
    let port: Int
    private let target: Int
    private let listener: Int32
    private let lock = NSLock()
    private var blocked = false
    private var blackholed = false
    private var pairs: [Pair] = []
    private var stopped = false
    private var sockets: Set<Int32> = []

    init(port: Int, target: Int) throws {
        self.port = port
        self.target = target
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw NSError(domain: "TCPProxy", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "cannot listen on \(port)"])
        }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Cuts the link: closes what it carries and refuses new connections until `unblock`.
    func block() {
        lock.lock()
        blocked = true
        let open = sockets
        sockets = []
        lock.unlock()
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Swallows every byte of the connections it carries and of new ones, until `unblock`;
    /// those connections stay silent after it (see the type's comment).
    func blackhole() {
        lock.lock()
        blackholed = true
        let current = pairs
        lock.unlock()
        for pair in current { pair.freeze() }
    }

    func unblock() {
        lock.lock()
        blocked = false
        blackholed = false
        lock.unlock()
    }

    func stop() {
        lock.lock()
        stopped = true
        let open = sockets
        sockets = []
        lock.unlock()
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                lock.lock()
                let done = stopped
                lock.unlock()
                if done { return }
                continue
            }
            lock.lock()
            let refuse = blocked || stopped
            lock.unlock()
            if refuse {
                close(client)
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected != 0 {
                close(client)
                close(upstream)
                continue
            }
            let pair = Pair(client, upstream)
            lock.lock()
            sockets.insert(client)
            sockets.insert(upstream)
            if blackholed { pair.freeze() }
            pairs.append(pair)
            lock.unlock()
            Thread { [self] in pump(from: client, to: upstream, pair: pair) }.start()
            Thread { [self] in pump(from: upstream, to: client, pair: pair) }.start()
        }
    }

    /// Both directions of one forwarded connection; the last pump to finish closes both
    /// sockets, so neither descriptor is reused while the other pump still writes to it.
    final class Pair: @unchecked Sendable {
        // Safety: `remaining` and `frozen` are only touched while holding `lock`.
        let a: Int32
        let b: Int32
        private let lock = NSLock()
        private var remaining = 2
        private var frozen = false
        func freeze() {
            lock.lock()
            frozen = true
            lock.unlock()
        }
        var isFrozen: Bool {
            lock.lock()
            defer { lock.unlock() }
            return frozen
        }
        init(_ a: Int32, _ b: Int32) {
            self.a = a
            self.b = b
        }
        func finished() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            remaining -= 1
            return remaining == 0
        }
    }

    private func pump(from source: Int32, to destination: Int32, pair: Pair) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            if pair.isFrozen { continue }  // the bytes vanish; the sender is not told
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
                if written <= 0 { break }
                offset += written
            }
            if offset < count { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
        guard pair.finished() else { return }
        lock.lock()
        sockets.remove(pair.a)
        sockets.remove(pair.b)
        pairs.removeAll { $0 === pair }
        lock.unlock()
        close(pair.a)
        close(pair.b)
    }
}
