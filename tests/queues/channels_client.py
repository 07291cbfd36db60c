"""channels-redis's RedisChannelLayer (Django Channels) over herald: send
and receive on one channel, then group_add + group_send to two channels."""
import asyncio
import os

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

URL = os.environ["HERALD_URL"]


async def quiet(layer, channel):
    """True if nothing arrives on `channel` within 0.3 s."""
    try:
        await asyncio.wait_for(layer.receive(channel), 0.3)
    except asyncio.TimeoutError:
        return True
    return False


async def core():
    layer = RedisChannelLayer(hosts=[URL], prefix="herald")
    ch = await layer.new_channel()
    await layer.send(ch, {"type": "hello", "text": "one"})
    await layer.send(ch, {"type": "hello", "text": "two"})
    print("core_receive", await layer.receive(ch), await layer.receive(ch))

    a = await layer.new_channel()
    b = await layer.new_channel()
    await layer.group_add("room", a)
    await layer.group_add("room", b)
    await layer.group_send("room", {"type": "chat", "n": 1})
    print("core_group", await layer.receive(a), await layer.receive(b))

    await layer.group_discard("room", a)
    await layer.group_send("room", {"type": "chat", "n": 2})
    print("core_discard", await layer.receive(b), await quiet(layer, a))
    await layer.flush()
    await layer.close_pools()


async def pubsub():
    layer = RedisPubSubChannelLayer(hosts=[URL], prefix="herald-ps")
    a = await layer.new_channel()
    b = await layer.new_channel()
    await layer.group_add("room", a)
    await layer.group_add("room", b)
    await layer.send(a, {"type": "direct", "n": 0})
    print("pubsub_send", await layer.receive(a))
    await layer.group_send("room", {"type": "chat", "n": 1})
    print("pubsub_group", await layer.receive(a), await layer.receive(b))
    await layer.flush()


asyncio.run(core())
asyncio.run(pubsub())
