"""Review of a preview (征求意见稿): dispute forms per provider, importing and deciding disputes in the
ledger, and the corrections table the final run applies."""
