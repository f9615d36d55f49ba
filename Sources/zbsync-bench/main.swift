import Foundation

// zbsync-bench: the scenarios of `make bench` (see scripts/bench.sh), one subcommand each; each writes its figures
// as JSON, and `report` turns them into docs/BENCHMARKS.md and the table on stdout.
let arguments = CommandLine.arguments
let usage = """
usage: zbsync-bench calls    --port P --baseline-port Q --dir DIR --out FILE
       zbsync-bench backfill --port P --scale X [--rpm N] --dir DIR [--home-dir DIR] --out FILE
       zbsync-bench plan     --orders N --out FILE
       zbsync-bench webhook  --zbsync BINARY --dir DIR [--deliveries N] [--concurrency N] --out FILE
       zbsync-bench report   --results DIR --out FILE
"""
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(64)
}
let options = Options(arguments.dropFirst(2))
do {
    switch arguments[1] {
    case "calls": try await CallsPerOrderBench.run(options)
    case "backfill": try await BackfillBench.run(options)
    case "plan": try await PlanningBench.run(options)
    case "webhook": try await WebhookBench.run(options)
    case "report": try Report.run(options)
    default:
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("zbsync-bench: \(error)\n".utf8))
    exit(1)
}
