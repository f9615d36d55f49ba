@_exported import SyncEngine
