"""Customer groups (社群): WeCom group chats in the pool, group QR codes and group health."""
