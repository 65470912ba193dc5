import Foundation

/// State diagrams of a definition, as Mermaid or Graphviz DOT text.
///
/// Output is deterministic: states, edges and labels are sorted by name. Final states are
/// marked (`X --> [*]` in Mermaid, a double circle in DOT); each edge is labelled with its
/// transition, and with the cron triggers and state timeouts that request it; `start`
/// triggers label the entry arrow. A `from: "*"` transition is drawn from every non-final state.
///
/// ```swift
/// print(WorkflowGraph.render(definition, format: .mermaid))
/// ```
public enum WorkflowGraph {
    /// The diagram languages.
    public enum Format: String, Sendable, CaseIterable {
        /// A Mermaid `stateDiagram-v2` (renders on GitHub and in most Markdown viewers).
        case mermaid
        /// Graphviz DOT (`dot -Tsvg`).
        case dot
    }

    /// One arrow of the diagram.
    struct Edge: Hashable, Comparable {
        var from: String
        var to: String
        var label: String

        static func < (lhs: Edge, rhs: Edge) -> Bool {
            (lhs.from, lhs.to, lhs.label) < (rhs.from, rhs.to, rhs.label)
        }
    }

    /// The diagram of `definition` in `format`, ending with a newline.
    public static func render(_ definition: WorkflowDefinition, format: Format) -> String {
        switch format {
        case .mermaid: return mermaid(definition)
        case .dot: return dot(definition)
        }
    }

    /// Edges between states, sorted; and the label of the entry arrow.
    static func edges(of definition: WorkflowDefinition) -> (edges: [Edge], entryLabel: String) {
        var edges: [Edge] = []
        for transition in definition.transitions {
            let sources: [String]
            switch transition.from {
            case .anyNonFinal: sources = definition.states.filter { !$0.isFinal }.map(\.name)
            case .states(let names): sources = Array(Set(names))
            }
            for source in sources {
                var notes: [String] = []
                if let timeout = definition.state(named: source)?.timeout, timeout.transition == transition.name {
                    notes.append("after \(timeout.after)")
                }
                for trigger in definition.triggers {
                    if case .transition(let name, let whereState) = trigger.action, name == transition.name,
                       whereState == nil || whereState == source {
                        notes.append(cronNote(trigger))
                    }
                }
                var label = transition.name
                if !notes.isEmpty { label += " [" + notes.sorted().joined(separator: "; ") + "]" }
                edges.append(Edge(from: source, to: transition.to, label: label))
            }
        }
        let starts = definition.triggers.filter {
            if case .start = $0.action { return true }
            return false
        }.map(cronNote).sorted()
        return (edges.sorted(), starts.joined(separator: "; "))
    }

    private static func cronNote(_ trigger: TriggerDefinition) -> String {
        "cron \(trigger.name): \(trigger.cron)" + (trigger.timezone == "UTC" ? "" : " \(trigger.timezone)")
    }

    // MARK: Mermaid

    static func mermaid(_ definition: WorkflowDefinition) -> String {
        let names = definition.states.map(\.name).sorted()
        let ids = mermaidIDs(names)
        var lines = ["%% workflow \(definition.name), content hash \(definition.contentHash)", "stateDiagram-v2"]
        for name in names where ids[name] != name {
            lines.append("    state \"\(name)\" as \(ids[name]!)")
        }
        let (edges, entryLabel) = edges(of: definition)
        lines.append("    [*] --> \(ids[definition.initial]!)" + (entryLabel.isEmpty ? "" : " : \(mermaidText(entryLabel))"))
        for edge in edges {
            lines.append("    \(ids[edge.from]!) --> \(ids[edge.to]!) : \(mermaidText(edge.label))")
        }
        for name in names where definition.isFinal(name) {
            lines.append("    \(ids[name]!) --> [*]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Mermaid ids cannot hold '-': `in-review` becomes `in_review` (declared with its real
    /// name as the label), with a numeric suffix if that id is taken.
    private static func mermaidIDs(_ names: [String]) -> [String: String] {
        var taken = Set(names.filter { !$0.contains("-") })
        var ids: [String: String] = [:]
        for name in names {
            guard name.contains("-") else { ids[name] = name; continue }
            let base = name.replacingOccurrences(of: "-", with: "_")
            var id = base
            var suffix = 2
            while taken.contains(id) { id = "\(base)_\(suffix)"; suffix += 1 }
            taken.insert(id)
            ids[name] = id
        }
        return ids
    }

    /// Mermaid ends a statement at ';' and reads '#' as an entity: keep labels plain.
    private static func mermaidText(_ text: String) -> String {
        text.replacingOccurrences(of: ";", with: ",").replacingOccurrences(of: "#", with: "no. ")
    }

    // MARK: DOT

    static func dot(_ definition: WorkflowDefinition) -> String {
        var lines = [
            "// workflow \(definition.name), content hash \(definition.contentHash)",
            "digraph \(dotString(definition.name)) {",
            "    rankdir=LR;",
            "    node [shape=box, style=rounded];",
            "    \"[*]\" [shape=point, label=\"\"];",
        ]
        for name in definition.states.map(\.name).sorted() {
            lines.append("    \(dotString(name))" + (definition.isFinal(name) ? " [shape=doublecircle, style=solid];" : ";"))
        }
        let (edges, entryLabel) = edges(of: definition)
        lines.append("    \"[*]\" -> \(dotString(definition.initial))" + (entryLabel.isEmpty ? ";" : " [label=\(dotString(entryLabel))];"))
        for edge in edges {
            lines.append("    \(dotString(edge.from)) -> \(dotString(edge.to)) [label=\(dotString(edge.label))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func dotString(_ text: String) -> String {
        var escaped = "\""
        for character in text {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped + "\""
    }
}
