// Users of Stores see the port types (StoreError, JournalEntry, …) without importing SyncEngine.
@_exported import SyncEngine
