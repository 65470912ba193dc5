internal import CYaml

/// Builds a `YAMLNode` tree from libyaml's event stream.
///
/// Yams' own composer stops at the first duplicate key, recurses once per nesting level and
/// expands aliases without bound, so we drive the libyaml parser that Yams vendors directly:
/// the tree is built with an explicit stack, nesting and node counts are checked as the
/// events arrive (a 100k-deep `[[[[` stops after `nestingDepthMax` tokens), and duplicate
/// keys are reported with both positions while composition goes on.
struct YAMLComposer {
    struct Problem: Equatable {
        var message: String
        var position: SourcePosition
    }

    /// The composed document (nil when empty or when composition had to stop), and the problems.
    struct Result {
        var root: YAMLNode?
        var problems: [Problem]
        /// True when composition stopped early (syntax error, a limit): `root` is then nil.
        var aborted: Bool
    }

    let limits: WorkflowLimits

    /// A collection being built. Plain stored properties (not an enum with payloads) so that
    /// appending mutates in place: copying a payload out and back would make building a
    /// mapping of n keys O(n²).
    private struct Frame {
        var isMapping: Bool
        var items: [YAMLNode] = []
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var pendingKey: YAMLNode?
        var dropNextValue = false
        var seenKeys: [String: SourcePosition] = [:]
        var position: SourcePosition
        var anchor: String?
        var nodeCount = 1
        var height = 1
    }

    private struct Abort: Error {
        var problem: Problem
    }

    func compose(_ text: String) -> Result {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [UInt8(ascii: "\n")] }  // libyaml wants a non-null buffer
        var problems: [Problem] = []
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return Result(root: nil, problems: [Problem(message: "out of memory starting the YAML parser", position: .start)], aborted: true)
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        return bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            do {
                let root = try run(&parser, text: bytes, problems: &problems)
                return Result(root: root, problems: problems, aborted: false)
            } catch let abort as Abort {
                problems.append(abort.problem)
                return Result(root: nil, problems: problems, aborted: true)
            } catch {
                problems.append(Problem(message: "\(error)", position: .start))
                return Result(root: nil, problems: problems, aborted: true)
            }
        }
    }

    private func run(_ parser: inout yaml_parser_t, text: [UInt8], problems: inout [Problem]) throws -> YAMLNode? {
        var stack: [Frame] = []
        var anchors: [String: YAMLNode] = [:]
        var root: YAMLNode?
        var documents = 0
        var totalNodes = 0

        func count(_ nodes: Int, at position: SourcePosition) throws {
            totalNodes += nodes
            if totalNodes > limits.nodeCountMax {
                throw Abort(problem: Problem(
                    message: "document has more than \(limits.nodeCountMax) nodes (counting alias expansions); split it or remove repeated aliases",
                    position: position))
            }
        }

        // Attaches a finished node to its parent (or makes it the root).
        func attach(_ node: YAMLNode, anchor: String?) {
            if let anchor { anchors[anchor] = node }
            guard !stack.isEmpty else {
                root = node
                return
            }
            let top = stack.count - 1
            stack[top].nodeCount += node.nodeCount
            stack[top].height = max(stack[top].height, node.height + 1)
            guard stack[top].isMapping else {
                stack[top].items.append(node)
                return
            }
            if let key = stack[top].pendingKey {
                if !stack[top].dropNextValue { stack[top].pairs.append((key: key, value: node)) }
                stack[top].pendingKey = nil
                stack[top].dropNextValue = false
                return
            }
            if case .scalar(let keyText, _) = node.kind {
                if let first = stack[top].seenKeys[keyText] {
                    stack[top].dropNextValue = true
                    problems.append(Problem(
                        message: "duplicate key '\(YAMLNode.clipped(keyText))' (first defined at \(first.line):\(first.column))",
                        position: node.position))
                } else {
                    stack[top].seenKeys[keyText] = node.position
                }
            }
            stack[top].pendingKey = node
        }

        func checkTag(_ pointer: UnsafeMutablePointer<yaml_char_t>?, allowed: Set<String>, at position: SourcePosition) -> String? {
            guard let pointer else { return nil }
            let tag = String(cString: pointer)
            if tag == "!" || allowed.contains(tag) { return tag }
            let shown = tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst("tag:yaml.org,2002:".count) : tag
            problems.append(Problem(message: "unsupported YAML tag '\(shown)'; only standard tags such as !!str are allowed", position: position))
            return tag
        }

        func checkDepth(at position: SourcePosition, height: Int = 0) throws {
            if stack.count + height > limits.nestingDepthMax {
                throw Abort(problem: Problem(
                    message: "nesting is deeper than \(limits.nestingDepthMax) levels; a workflow needs only a few",
                    position: position))
            }
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                throw Abort(problem: Self.syntaxProblem(parser, text: text))
            }
            defer { yaml_event_delete(&event) }
            let position = SourcePosition(line: event.start_mark.line + 1, column: event.start_mark.column + 1)
            switch event.type {
            case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
                continue
            case YAML_STREAM_END_EVENT:
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw Abort(problem: Problem(
                        message: "file holds more than one YAML document ('---'); a workflow file holds exactly one",
                        position: position))
                }
            case YAML_ALIAS_EVENT:
                let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                guard let node = anchors[name] else {
                    problems.append(Problem(message: "alias '*\(name)' refers to no anchor defined before it", position: position))
                    try count(1, at: position)
                    attach(YAMLNode(kind: .scalar("", plain: true), position: position), anchor: nil)
                    continue
                }
                try count(node.nodeCount, at: position)
                try checkDepth(at: position, height: node.height)
                attach(node, anchor: nil)
            case YAML_SCALAR_EVENT:
                try count(1, at: position)
                let scalar = event.data.scalar
                let text = scalar.value.map {
                    String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self)
                } ?? ""
                let tag = checkTag(scalar.tag, allowed: Self.scalarTags, at: position)
                let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && tag != "tag:yaml.org,2002:str" && tag != "!"
                let anchor = scalar.anchor.map { String(cString: $0) }
                attach(YAMLNode(kind: .scalar(text, plain: plain), position: position), anchor: anchor)
            case YAML_SEQUENCE_START_EVENT:
                try count(1, at: position)
                try checkDepth(at: position, height: 1)
                _ = checkTag(event.data.sequence_start.tag, allowed: ["tag:yaml.org,2002:seq"], at: position)
                stack.append(Frame(isMapping: false, position: position,
                                   anchor: event.data.sequence_start.anchor.map { String(cString: $0) }))
            case YAML_MAPPING_START_EVENT:
                try count(1, at: position)
                try checkDepth(at: position, height: 1)
                _ = checkTag(event.data.mapping_start.tag, allowed: ["tag:yaml.org,2002:map"], at: position)
                stack.append(Frame(isMapping: true, position: position,
                                   anchor: event.data.mapping_start.anchor.map { String(cString: $0) }))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { continue }
                let kind: YAMLNode.Kind = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
                attach(YAMLNode(kind: kind, position: frame.position, nodeCount: frame.nodeCount, height: frame.height),
                       anchor: frame.anchor)
            default:
                continue
            }
        }
    }

    private static let scalarTags: Set<String> = [
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
    ]

    private static func syntaxProblem(_ parser: yaml_parser_t, text: [UInt8]) -> Problem {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        if parser.error == YAML_READER_ERROR {
            return Problem(message: "YAML syntax error: \(problem)",
                           position: TextChecks.position(ofByte: parser.problem_offset, in: text))
        }
        var message = "YAML syntax error: \(problem)"
        let position = SourcePosition(line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1)
        if let context = parser.context.map({ String(cString: $0) }) {
            message += " (\(context) at \(parser.context_mark.line + 1):\(parser.context_mark.column + 1))"
        }
        return Problem(message: message, position: position)
    }
}
