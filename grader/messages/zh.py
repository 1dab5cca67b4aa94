"""简体中文消息。花括号中的占位符由调用者填写。"""

MESSAGES: dict[str, str] = {}
