"""The customer archive (客户档案) and the operations that span domains: OneID upsert, merge, export, erase."""
