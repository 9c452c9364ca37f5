"""Every sentence the gateway itself says to a customer (Simplified Chinese), in one place."""

BOT_UNAVAILABLE = "抱歉,智能助手暂时无法回复。您的消息已经保存,我们会尽快处理;紧急问题请拨打客服热线 400-800-1234。"
WAITING_FOR_AGENT = "您的消息已收到,正在为您转接人工客服,请稍候。"
CONVERSATION_CLOSED = "本次会话已结束。如需继续咨询,请直接发送您的问题。"
