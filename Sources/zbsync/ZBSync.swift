import Foundation

/// The `zbsync` executable. Everything happens in ``CommandLineRunner``; this only hands it the process's
/// arguments and environment and exits with the code it returns.
@main
struct ZBSync {
    static func main() async {
        let runner = CommandLineRunner(arguments: Array(CommandLine.arguments.dropFirst()),
                                       environment: ProcessInfo.processInfo.environment)
        let code = await runner.run()
        exit(code.rawValue)
    }
}
