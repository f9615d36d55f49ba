import Foundation
print("zbsync-bench: see make bench")
