"""Sends e-mail over SMTP (STARTTLS and login when configured): the notifications' one way out by mail."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from pydantic import BaseModel, ConfigDict


class SmtpConfig(BaseModel):
    """Where mail goes out, and as whom (CLAIMFLOW_SMTP_*)."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int = 587
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout_seconds: float = 10.0
    #: Where the links in mails point: the API as its users reach it.
    public_url: str = "http://localhost:8000"


class MailNotSent(Exception):
    """The SMTP server did not take the mail (our words: a server's reply may quote the message)."""


class Mailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, to: str, subject: str, text: str) -> None:
        """Hand one plain-text mail to the SMTP server; MailNotSent if it did not take it."""
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(f"the SMTP server did not take the mail ({type(exc).__name__})") from None

    def _send(self, message: EmailMessage) -> None:
        config = self.config
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username and config.password:
                smtp.login(config.username, config.password)
            smtp.send_message(message)
