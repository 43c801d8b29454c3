"""The moderator tools of the chat panel in real browsers (headless Chromium), against the real
stack with the shipped conf/realtime.yaml (rate limits on): a moderator deletes a message from
its menu and it disappears from a viewer's screen; bans a user with a reason, whose send box
then says they are banned, and sees the ban and the audit log in the Moderation view; a short
timeout (over REST: the menu offers minutes) turns a user's send box off until it expires; a
viewer gets no tools, and a broadcaster gets them from the server's answer; a moderator turns
slow mode on, pins a message and clears the chat from the tools, and a viewer sees each at once,
and a held message waits in the Moderation view until approved. Screenshots: build/screenshots/."""

import re

from browser import (SHIPPED_CONFIG, browsers, js, open_chat, screenshot, send_chat,  # noqa: F401
                     visible_text, wait_texts, wait_until)
from conftest import json_body, unique_channel

STACK_CONFIG = SHIPPED_CONFIG
STACK_API = True


def open_as_moderator(browser, stack, channel, sub="u_mod", name="Mod Alice"):
    open_chat(browser, stack, channel, stack.token(sub, username=name, role="moderator"))
    wait_until(browser, lambda d: js(d, "return document.querySelector('.chat').dataset.moderator"
                                        " === 'true'"), what="the moderator tools")


def message_item(driver, text):
    return js(driver, """return [...document.querySelectorAll('.chat-log .msg')].find(
        li => li.querySelector('.msg-text').textContent === arguments[0]) || null""", text)


def open_menu(driver, text):
    from selenium.webdriver.common.by import By
    li = wait_until(driver, lambda d: message_item(d, text), what=f"the message {text!r}")
    li.find_element(By.CSS_SELECTOR, ".msg-mod-toggle").click()
    wait_until(driver, lambda d: li.find_element(By.CSS_SELECTOR, ".msg-menu").is_displayed(),
               what="the message's menu")
    return li


def click_in(li, selector, index=0):
    from selenium.webdriver.common.by import By
    li.find_elements(By.CSS_SELECTOR, selector)[index].click()


def status_says(driver, words):
    return wait_until(driver, lambda d: (visible_text(d, ".mod-status") or "").find(words) >= 0,
                      what=f"the status line to say {words!r} (says "
                           f"{visible_text(driver, '.mod-status')!r})")


def send_box_off(driver):
    return js(driver, "return document.querySelector('.chat-send input').disabled")


def test_a_moderator_deletes_a_message_from_its_menu_and_it_goes_from_a_viewers_screen(
        stack, browsers):
    ch = unique_channel()
    mod, viewer = browsers(), browsers()
    open_as_moderator(mod, stack, ch)
    open_chat(viewer, stack, ch, stack.token("u_bob", username="bob"))
    # a viewer gets no tools
    assert js(viewer, "return document.querySelectorAll('.msg-mod-toggle, .mod-toggle:not([hidden])')"
                      ".length") == 0
    send_chat(viewer, "buy cheap followers at example.com")
    send_chat(viewer, "great stream!")
    want = ["buy cheap followers at example.com", "great stream!"]
    wait_texts(mod, want)
    wait_texts(viewer, want)
    assert js(viewer, "return document.querySelectorAll('.msg-mod-toggle').length") == 0

    li = open_menu(mod, want[0])
    labels = js(mod, "return [...arguments[0].querySelectorAll('.msg-actions button')]"
                     ".map(b => b.textContent)", li)
    assert labels == ["Delete", "Pin", "Timeout 1 min", "Timeout 10 min", "Timeout 1 h", "Ban",
                      "Unban"]
    screenshot(mod, "moderator-menu")
    # a refusal is told in words: bob is not banned
    click_in(li, ".mod-unban")
    status_says(mod, "Not done: u_bob is neither banned nor timed out")
    assert js(mod, "return document.querySelector('.mod-status').dataset.kind") == "error"
    click_in(li, ".mod-delete")
    status_says(mod, "Message deleted.")
    wait_texts(viewer, ["great stream!"])
    wait_texts(mod, ["great stream!"])
    screenshot(viewer, "moderated-viewer")


def test_a_moderator_bans_a_user_who_is_told_and_sees_it_in_the_moderation_view(
        stack, browsers):
    from selenium.webdriver.common.by import By
    ch = unique_channel()
    mod, troll = browsers(), browsers()
    open_as_moderator(mod, stack, ch)
    open_chat(troll, stack, ch, stack.token("u_troll", username="troll"))
    send_chat(troll, "you all stink")
    wait_texts(mod, ["you all stink"])

    li = open_menu(mod, "you all stink")
    click_in(li, ".mod-ban")
    box = li.find_element(By.CSS_SELECTOR, ".msg-reason input")
    wait_until(mod, lambda d: box.is_displayed(), what="the reason box")
    assert li.find_element(By.CSS_SELECTOR, ".msg-confirm").text == "Ban troll"
    box.send_keys("insults")
    click_in(li, ".msg-confirm")
    status_says(mod, "troll is banned.")

    wait_until(troll, lambda d: send_box_off(d), what="the banned user's send box to turn off")
    said = wait_until(troll, lambda d: visible_text(d, ".chat-error"), what="a reason")
    assert "banned" in said.lower(), said
    assert "banned" in (visible_text(troll, ".chat-banner") or "").lower()
    screenshot(troll, "banned-user")

    # the Moderation view: the ban, by whom and why; the audit log
    js(mod, "document.querySelector('.mod-toggle').click()")
    wait_until(mod, lambda d: js(d, "return document.querySelector('.mod-bans [data-user-id=\"u_troll\"]')"),
               what="the ban in the Moderation view")
    ban = visible_text(mod, ".mod-bans [data-user-id='u_troll']")
    assert "banned" in ban and "insults" in ban and "u_mod" in ban, ban
    first = wait_until(mod, lambda d: visible_text(d, ".mod-log .mod-entry"), what="the audit log")
    assert "Mod Alice banned u_troll: insults" in first, first
    assert visible_text(mod, ".chat-log") is None  # the view stands in for the chat
    screenshot(mod, "moderation-view")

    # unban from the view: the list empties
    js(mod, "document.querySelector('.mod-bans [data-user-id=\"u_troll\"] .mod-unban').click()")
    status_says(mod, "u_troll may chat again.")
    wait_until(mod, lambda d: "Nobody is banned" in (visible_text(d, ".mod-bans") or ""),
               what="the ban list to empty")
    wait_until(mod, lambda d: "unbanned u_troll" in (visible_text(d, ".mod-log .mod-entry") or ""),
               what="the unban in the log")


def test_a_short_timeout_turns_the_send_box_off_until_it_expires(stack, browsers):
    ch = unique_channel()
    mod_tok = stack.token("u_mod", username="Mod Alice", role="moderator")
    mod, user = browsers(), browsers()
    open_as_moderator(mod, stack, ch)
    open_chat(user, stack, ch, stack.token("u_eve", username="eve"))
    send_chat(user, "first!!!")
    wait_texts(mod, ["first!!!"])
    json_body(stack.rest("POST", ch, "users", "u_eve", "timeout", token=mod_tok,
                         json={"duration": 3, "reason": "cool off"}))
    wait_until(user, lambda d: send_box_off(d), what="the send box to turn off")
    said = visible_text(user, ".chat-error")
    assert "timed out" in said and "cool off" in said, said
    assert re.search(r"\d:\d\d:\d\d", said), said  # a short timeout says its second
    screenshot(user, "timed-out-user")
    # the moderator's view lists it while it lasts
    js(mod, "document.querySelector('.mod-toggle').click()")
    wait_until(mod, lambda d: "timed out until" in (visible_text(d, ".mod-bans") or ""),
               what="the timeout in the Moderation view")
    # expired: the box is back on, and the message goes through
    wait_until(user, lambda d: not send_box_off(d), timeout=10,
               what="the send box to come back after 3 s")
    assert visible_text(user, ".chat-error") is None
    send_chat(user, "sorry")
    assert visible_text(user, ".chat-error") is None
    wait_texts(user, ["first!!!", "sorry"])
    js(mod, "document.querySelector('.mod-toggle').click()")  # back to the chat
    wait_texts(mod, ["first!!!", "sorry"])


def test_the_moderation_log_pages_back_with_older(stack, browsers):
    ch = unique_channel()
    admin = stack.token("u_admin", username="root", role="admin")  # exempt from rate limits
    for i in range(55):
        json_body(stack.rest("POST", ch, "users", f"u_{i:02d}", "timeout", token=admin,
                             json={"duration": 600}))
    mod = browsers()
    open_as_moderator(mod, stack, ch)
    js(mod, "document.querySelector('.mod-toggle').click()")
    count = lambda d: js(d, "return document.querySelectorAll('.mod-log .mod-entry').length")  # noqa
    wait_until(mod, lambda d: count(d) == 50, what="the first page of 50")
    assert "u_54" in visible_text(mod, ".mod-log .mod-entry")
    js(mod, "document.querySelector('.mod-older').click()")
    wait_until(mod, lambda d: count(d) == 55, what="the older 5")
    last = js(mod, "const l = document.querySelectorAll('.mod-log .mod-entry');"
                   "return l[l.length - 1].textContent")
    assert "u_00" in last, last
    assert visible_text(mod, ".mod-older") is None


def test_a_broadcaster_gets_the_tools_from_the_servers_answer(stack, browsers):
    from test_rest_streaming import create_key, fresh_name
    name = fresh_name()
    tok = stack.token("u_owner", username="owner", role="streamer")
    create_key(stack, tok, name)
    ch = f"chat:stream_{name}"
    owner, other = browsers(), browsers()
    open_chat(owner, stack, ch, tok)
    wait_until(owner, lambda d: js(d, "return document.querySelector('.chat').dataset.moderator"
                                      " === 'true'"), what="the broadcaster's tools")
    open_chat(other, stack, ch, stack.token("u_someone", username="someone", role="streamer"))
    send_chat(other, "hello owner")
    li = open_menu(owner, "hello owner")
    click_in(li, ".mod-delete")
    status_says(owner, "Message deleted.")
    wait_texts(other, [])
    assert js(other, "return document.querySelector('.chat').dataset.moderator") is None


def test_slow_mode_a_pin_and_clear_chat_from_the_tools_reach_a_viewer_at_once(stack, browsers):
    from selenium.webdriver.support.ui import Select
    from selenium.webdriver.common.by import By
    ch = unique_channel()
    mod, viewer = browsers(), browsers()
    open_as_moderator(mod, stack, ch)
    open_chat(viewer, stack, ch, stack.token("u_vic", username="vic"))
    assert js(viewer, "return document.querySelector('.chat-modes').hidden") is True
    send_chat(viewer, "welcome everyone")
    wait_texts(mod, ["welcome everyone"])

    js(mod, "document.querySelector('.mod-toggle').click()")
    slow = wait_until(mod, lambda d: d.find_element(By.CSS_SELECTOR, ".mod-slow"),
                      what="the slow mode control")
    Select(slow).select_by_value("10")
    status_says(mod, "Slow mode: 10 s.")
    wait_until(viewer, lambda d: visible_text(d, ".chat-modes") == "Slow mode: 10 s",
               what="the viewer's modes line")
    # vic posted a moment ago: the next one is refused, with the wait
    input_ = viewer.find_element(By.CSS_SELECTOR, ".chat-send input")
    input_.send_keys("second message")
    viewer.find_element(By.CSS_SELECTOR, ".chat-send button").click()
    said = wait_until(viewer, lambda d: visible_text(d, ".chat-error"), what="the refusal")
    assert said.startswith("Slow down: slow mode: one message every 10 s; wait"), said
    screenshot(viewer, "slow-mode-refusal")

    # back to the chat: pin vic's message from its menu
    js(mod, "document.querySelector('.mod-toggle').click()")
    li = open_menu(mod, "welcome everyone")
    click_in(li, ".mod-pin")
    status_says(mod, "Message pinned.")
    wait_until(viewer, lambda d: "welcome everyone" in (visible_text(d, ".chat-pinned") or ""),
               what="the pinned message on the viewer's screen")
    assert (visible_text(viewer, ".chat-pinned") or "").startswith("Pinned"), \
        visible_text(viewer, ".chat-pinned")
    screenshot(viewer, "pinned-and-slow-mode")

    # clear chat: two clicks; the viewer's log empties and says why
    js(mod, "document.querySelector('.mod-toggle').click()")
    clear = wait_until(mod, lambda d: d.find_element(By.CSS_SELECTOR, ".mod-clear"),
                       what="the clear button")
    clear.click()
    assert clear.text == "Click again to clear"
    clear.click()
    status_says(mod, "The chat was cleared.")
    wait_until(viewer, lambda d: js(d, "return document.querySelectorAll('.chat-log .msg').length")
               == 0, what="the viewer's chat to empty")
    assert visible_text(viewer, ".chat-notice") == "A moderator cleared the chat."
    assert visible_text(viewer, ".chat-pinned") is None
    wait_until(mod, lambda d: "cleared the chat" in (visible_text(d, ".mod-log .mod-entry") or ""),
               what="the clear in the log")
    screenshot(mod, "moderation-view-modes")


def test_a_held_message_waits_in_the_moderation_view_until_approved(stack, browsers):
    from selenium.webdriver.common.by import By
    ch = unique_channel()
    staff = stack.token("u_staff", role="moderator")
    json_body(stack.http("PUT", f"/api/realtime/channels/{ch}/settings", token=staff,
                         json={"blocked_terms": ["free*followers"], "blocked_terms_action": "hold"}))
    mod, viewer = browsers(), browsers()
    open_as_moderator(mod, stack, ch)
    open_chat(viewer, stack, ch, stack.token("u_sam", username="sam"))
    input_ = viewer.find_element(By.CSS_SELECTOR, ".chat-send input")
    input_.send_keys("get FREE real followers")
    viewer.find_element(By.CSS_SELECTOR, ".chat-send button").click()
    wait_until(viewer, lambda d: visible_text(d, ".chat-notice")
               == "Your message is waiting for a moderator's review.", what="the held notice")
    # the moderator is told at once, without opening anything
    status_says(mod, "A message is waiting for review")
    assert visible_text(mod, ".mod-toggle") == "Moderation •"
    assert js(mod, "return document.querySelectorAll('.chat-log .msg').length") == 0
    js(mod, "document.querySelector('.mod-toggle').click()")
    item = wait_until(mod, lambda d: visible_text(d, ".mod-held .mod-held-item"),
                      what="the held message in the view")
    # with the view open, the next one appears by itself
    input_.send_keys("more free real followers")
    viewer.find_element(By.CSS_SELECTOR, ".chat-send button").click()
    wait_until(mod, lambda d: js(d, "return document.querySelectorAll('.mod-held .mod-held-item')"
                                    ".length") == 2, what="the second held message, live")
    assert "sam" in item and "get FREE real followers" in item and "free*followers" in item, item
    screenshot(mod, "held-for-review")
    js(mod, "document.querySelector('.mod-held .mod-approve').click()")
    status_says(mod, "Approved: the message is in the chat now.")
    wait_texts(viewer, ["get FREE real followers"])
    js(mod, "document.querySelector('.mod-held .mod-deny').click()")
    status_says(mod, "Denied.")
    wait_until(mod, lambda d: "Nothing is waiting" in (visible_text(d, ".mod-held") or ""),
               what="the queue to empty")
