import Synchronization

/// The transitions of one run, numbered from 0 and handed out once each across all the
/// clients: the whole run stops at `transitionsMax`, and in an open-loop run a ticket's
/// number says when it is due (`OpenLoopSchedule`).
final class Tickets: Sendable {
    private let taken = Atomic<Int>(0)
    private let transitionsMax: Int

    init(transitionsMax: Int) {
        precondition(transitionsMax >= 1)
        self.transitionsMax = transitionsMax
    }

    /// The next ticket, or nil when `transitionsMax` have been handed out.
    func take() -> Int? {
        let ticket = taken.wrappingAdd(1, ordering: .relaxed).oldValue
        return ticket < transitionsMax ? ticket : nil
    }
}
