"""Everything the dialog itself says (not the topic answers, which live in content/), in sv and en.

Swedish is the primary text, written in plain language; the English says the same.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "sv": "Hej! Jag är en chattbot om sociala företag i Sundsvall och Västervik. "
        "Jag svarar på frågor om jobb, stöd och att starta företag, och du kan boka ett möte med en person.\n\n"
        "Vilket språk vill du använda?",
        "en": "Hi! I am a chatbot about social enterprises in Sundsvall and Västervik. "
        "I answer questions about work, support and starting a business, and you can book a meeting with a person.\n\n"
        "Which language do you want to use?",
    },
    "choose_region": {
        "sv": "Vilken kommun gäller det?",
        "en": "Which municipality is it about?",
    },
    "region_set": {
        "sv": "Bra, då svarar jag för {region}. Skriv en fråga med egna ord, eller välj i menyn.",
        "en": "Good, I will answer for {region}. Write a question in your own words, or choose from the menu.",
    },
    "language_set": {
        "sv": "Nu skriver jag på svenska.",
        "en": "I will write in English now.",
    },
    "menu": {
        "sv": "Vad vill du veta mer om? Du kan också skriva en fråga.",
        "en": "What would you like to know more about? You can also write a question.",
    },
    "menu_jobseeker": {"sv": "För dig som söker jobb", "en": "For job seekers"},
    "menu_founder": {"sv": "Starta ett socialt företag", "en": "Start a social enterprise"},
    "menu_support": {"sv": "Stödet runt omkring", "en": "The support around"},
    "menu_person": {"sv": "Prata med en människa", "en": "Talk to a person"},
    "menu_about": {"sv": "Om sociala företag", "en": "About social enterprises"},
    "submenu": {
        "sv": "Välj ett ämne:",
        "en": "Choose a topic:",
    },
    "button_menu": {"sv": "Meny", "en": "Menu"},
    "button_book": {"sv": "Boka möte", "en": "Book a meeting"},
    "button_contact": {"sv": "Kontakt", "en": "Contact"},
    "button_mybookings": {"sv": "Mina bokningar", "en": "My bookings"},
    "button_cancel": {"sv": "Avbryt", "en": "Cancel"},
    "button_continue": {"sv": "Fortsätt", "en": "Continue"},
    "button_back": {"sv": "Tillbaka", "en": "Back"},
    "button_earlier": {"sv": "Tidigare tider", "en": "Earlier times"},
    "button_change": {"sv": "Ändra", "en": "Change"},
    "button_change_time": {"sv": "Tiden", "en": "The time"},
    "button_change_name": {"sv": "Namnet", "en": "The name"},
    "button_change_contact": {"sv": "Hur jag nås", "en": "How to reach me"},
    "button_none": {"sv": "Inget av dem", "en": "None of them"},
    "button_helpful": {"sv": "👍 Det hjälpte", "en": "👍 That helped"},
    "button_unhelpful": {"sv": "👎 Hjälpte inte", "en": "👎 Did not help"},
    "feedback_thanks": {
        "sv": "Tack! Bra att svaret hjälpte.",
        "en": "Thank you! Good that the answer helped.",
    },
    "feedback_sorry": {
        "sv": "Tack för att du säger till. Personalen får se frågan (utan namn och nummer) så att svaren blir "
        "bättre. Kanske passar något av det här, eller prata med {contact_name} på {contact_phone}.",
        "en": "Thank you for telling me. The staff will see the question (without names and numbers) so that the "
        "answers get better. Maybe one of these fits, or talk to {contact_name} on {contact_phone}.",
    },
    "did_you_mean": {
        "sv": "Jag är inte säker på vad du menar. Menar du något av det här?",
        "en": "I am not sure what you mean. Do you mean one of these?",
    },
    "none_of_them": {
        "sv": "Okej. Försök gärna skriva frågan på ett annat sätt, välj i menyn, eller prata med {contact_name}.",
        "en": "All right. Try asking in another way, choose from the menu, or talk to {contact_name}.",
    },
    "fallback": {
        "sv": "Det vet jag tyvärr inte. Jag kan svara på frågor om sociala företag, jobb och stöd i {region}.\n\n"
        "Du kan välja i menyn, skriva frågan på ett annat sätt, eller fråga {contact_name} ({contact_phone}).",
        "en": "Sorry, I don't know that. I can answer questions about social enterprises, work and support "
        "in {region}.\n\nYou can choose from the menu, ask in another way, or ask {contact_name} ({contact_phone}).",
    },
    "other_language_hint": {
        "sv": "(Write {language} to get the answers in English.)",
        "en": "(Skriv {language} för att få svaren på svenska.)",
    },
    "greeting": {
        "sv": "Hej! Skriv en fråga, eller välj i menyn.",
        "en": "Hi! Write a question, or choose from the menu.",
    },
    "thanks": {
        "sv": "Varsågod! Fråga gärna mer.",
        "en": "You're welcome! Feel free to ask more.",
    },
    "bye": {
        "sv": "Hej då! Välkommen tillbaka.",
        "en": "Goodbye! Welcome back any time.",
    },
    "ok": {
        "sv": "Bra! Skriv om du undrar något mer.",
        "en": "Good! Write if you wonder about anything else.",
    },
    "only_text": {
        "sv": "Jag kan bara läsa text. Skriv din fråga med bokstäver, så svarar jag.",
        "en": "I can only read text. Write your question in letters and I will answer.",
    },
    "edited": {
        "sv": "Jag läser inte ändrade meddelanden. Skriv gärna ett nytt meddelande i stället.",
        "en": "I don't read edited messages. Please write a new message instead.",
    },
    "empty": {
        "sv": "Jag fick ett tomt meddelande. Skriv en fråga, eller välj i menyn.",
        "en": "I got an empty message. Write a question, or choose from the menu.",
    },
    "too_long": {
        "sv": "Ditt meddelande var långt, så jag läste bara början.",
        "en": "Your message was long, so I only read the beginning.",
    },
    "unknown_command": {
        "sv": "Det kommandot känner jag inte till. Det här kan jag: /menu /book /mybookings /region /language "
        "/privacy /delete /help",
        "en": "I don't know that command. This is what I can do: /menu /book /mybookings /region /language "
        "/privacy /delete /help",
    },
    "technical_error": {
        "sv": "Något gick fel hos mig just nu, och inget har ändrats. Försök igen om en liten stund.",
        "en": "Something went wrong on my side just now, and nothing was changed. Please try again shortly.",
    },
    "choice_closed": {
        "sv": "Det valet är inte öppet längre. Här är vad du kan göra nu:",
        "en": "That choice is no longer open. This is what you can do now:",
    },
    "idle_reset": {
        "sv": "Det var ett tag sedan vi skrev, så jag avbröt det vi höll på med. Inget är bokat eller ändrat.",
        "en": "It has been a while since we wrote, so I stopped what we were doing. Nothing was booked or changed.",
    },
    "cancelled_flow": {
        "sv": "Okej, jag avbröt. Inget är ändrat.",
        "en": "All right, I stopped. Nothing was changed.",
    },
    "nothing_to_cancel": {
        "sv": "Vi håller inte på med något just nu.",
        "en": "We are not in the middle of anything right now.",
    },
    "crisis_contact": {
        "sv": "Vill du prata med någon här? {contact_name}, {contact_role}, nås på {contact_phone}.",
        "en": "Would you like to talk to someone here? {contact_name}, {contact_role}, on {contact_phone}.",
    },
    "crisis_flow_kept": {
        "sv": "Det vi höll på med finns kvar. Vi kan fortsätta när du vill.",
        "en": "What we were doing is still here. We can go on whenever you want.",
    },
    # --- booking ---------------------------------------------------------------------------------
    "book_intro": {
        "sv": "Du kan boka ett möte med {contact_name}, {contact_role} i {region}. Mötet tar {minutes} minuter. "
        "{place}",
        "en": "You can book a meeting with {contact_name}, {contact_role} in {region}. The meeting takes "
        "{minutes} minutes. {place}",
    },
    "place_chat": {
        "sv": "{contact_name} hör av sig till dig här i chatten för att bestämma hur ni pratar.",
        "en": "{contact_name} will get in touch with you here in the chat to agree how you will talk.",
    },
    "choose_time": {"sv": "Välj en tid:", "en": "Choose a time:"},
    "book_later_times": {"sv": "Fler tider:", "en": "More times:"},
    "button_later": {"sv": "Senare tider", "en": "Later times"},
    "no_slots": {
        "sv": "Just nu finns inga lediga tider att boka här. Ring eller mejla {contact_name} ({contact_phone}) "
        "så bestämmer ni en tid.",
        "en": "There are no free times to book here right now. Call or e-mail {contact_name} ({contact_phone}) "
        "to agree on a time.",
    },
    "ask_name": {
        "sv": "Vad heter du i förnamn? Det behövs inte: du kan trycka på Hoppa över.",
        "en": "What is your first name? You don't have to say: you can press Skip.",
    },
    "button_skip": {"sv": "Hoppa över", "en": "Skip"},
    "ask_contact": {
        "sv": "Hur vill du att {contact_name} når dig?",
        "en": "How do you want {contact_name} to reach you?",
    },
    "button_contact_chat": {"sv": "Här i chatten", "en": "Here in the chat"},
    "button_contact_phone": {"sv": "Ring mig", "en": "Call me"},
    "ask_phone": {
        "sv": "Skriv ditt telefonnummer, till exempel 070-123 45 67.",
        "en": "Write your phone number, for example 070-123 45 67.",
    },
    "bad_phone": {
        "sv": "Det ser inte ut som ett telefonnummer. Skriv det till exempel så här: 070-123 45 67 "
        "(från ett annat land: med + först, som +358 40 123 4567). Eller tryck Avbryt.",
        "en": "That does not look like a phone number. Write it like this, for example: 070-123 45 67 "
        "(from another country: with + first, like +358 40 123 4567). Or press Cancel.",
    },
    "bad_name": {
        "sv": "Skriv bara ditt förnamn med bokstäver, eller tryck Hoppa över.",
        "en": "Write only your first name in letters, or press Skip.",
    },
    "still_booking": {
        "sv": "Vi håller fortfarande på att boka ett möte.",
        "en": "We are still booking a meeting.",
    },
    "still_move": {
        "sv": "Vi håller fortfarande på att flytta ditt möte.",
        "en": "We are still moving your meeting.",
    },
    "still_cancel": {
        "sv": "Du har inte svarat om mötet ska avbokas.",
        "en": "You have not said yet whether to cancel the meeting.",
    },
    "still_delete": {
        "sv": "Du har inte svarat om allt ska raderas.",
        "en": "You have not said yet whether to delete everything.",
    },
    "cancelled_booking": {
        "sv": "Okej, jag avbröt bokningen. Inget är bokat.",
        "en": "All right, I stopped the booking. Nothing was booked.",
    },
    "cancelled_move": {
        "sv": "Okej, jag avbröt flytten. Mötet ligger kvar på samma tid.",
        "en": "All right, I stopped the move. The meeting stays at the same time.",
    },
    "cancelled_cancel": {
        "sv": "Okej, mötet är kvar.",
        "en": "All right, the meeting stays.",
    },
    "cancelled_delete": {
        "sv": "Okej, inget är raderat.",
        "en": "All right, nothing was deleted.",
    },
    "cancelled_region": {
        "sv": "Okej, jag avbröt.",
        "en": "All right, I stopped.",
    },
    "what_now": {
        "sv": "Skriv en fråga, eller välj i menyn.",
        "en": "Write a question, or choose from the menu.",
    },
    "region_already": {
        "sv": "Jag svarar redan för {region}.",
        "en": "I am already answering for {region}.",
    },
    "already_in_flow": {
        "sv": "Vi håller redan på med det.",
        "en": "We are already doing that.",
    },
    "choose_region_first": {
        "sv": "Svaret beror på kommunen. Välj kommun när vi är klara här, så svarar jag.",
        "en": "The answer depends on the municipality. Choose it when we are done here, and I will answer.",
    },
    "same_answer": {
        "sv": "Det var just det jag svarade om {title}. Vill du veta något närliggande, eller prata med "
        "{contact_name} ({contact_phone})?",
        "en": "That is what I just answered about {title}. Would you like something related, or to talk to "
        "{contact_name} ({contact_phone})?",
    },
    "booking_limit": {
        "sv": "Du har redan {max} bokade möten, och det är det mesta en chatt kan boka. Det är för att tiderna "
        "ska räcka till alla. Vill du byta tid: flytta eller avboka ett möte under {mybookings}.",
        "en": "You already have {max} booked meetings, which is the most one chat can book. That is so the "
        "times are enough for everyone. To change, move or cancel a meeting under {mybookings}.",
    },
    "booking_limit_note": {
        "sv": "(En chatt kan ha högst {max} bokade möten samtidigt, så att tiderna räcker till alla.)",
        "en": "(One chat can have at most {max} booked meetings at a time, so the times are enough for everyone.)",
    },
    "no_more_slots": {
        "sv": "Det finns inga fler lediga tider de närmaste veckorna. Passar ingen av de här: ring "
        "{contact_name} på {contact_phone}.",
        "en": "There are no more free times in the coming weeks. If none of these suits you: call "
        "{contact_name} on {contact_phone}.",
    },
    "earliest_already": {
        "sv": "Det här är de första lediga tiderna.",
        "en": "These are the earliest free times.",
    },
    "times_that_day": {
        "sv": "De här tiderna passar det du skrev:",
        "en": "These times fit what you wrote:",
    },
    "no_time_like_that": {
        "sv": "Den tiden är inte ledig. Välj en av de här, eller skriv en annan dag:",
        "en": "That time is not free. Choose one of these, or write another day:",
    },
    "slot_passed": {
        "sv": "Den tiden går inte att boka längre. Här är nästa lediga tider:",
        "en": "That time can no longer be booked. Here are the next free times:",
    },
    "phone_not_personal": {
        "sv": "Det numret går inte att använda: skriv ett mobilnummer eller ett vanligt telefonnummer, "
        "till exempel 070-123 45 67.",
        "en": "That number cannot be used: write a mobile or an ordinary phone number, for example "
        "070-123 45 67.",
    },
    "what_to_change": {
        "sv": "Vad vill du ändra?",
        "en": "What do you want to change?",
    },
    "calendar_title": {"sv": "Möte med {contact_name}", "en": "Meeting with {contact_name}"},
    "move_not_done": {
        "sv": "Okej, mötet ligger kvar på samma tid.",
        "en": "All right, the meeting stays at the same time.",
    },
    "confirm_booking": {
        "sv": "Stämmer det här?\n\nMöte med {contact_name}\nTid: {when}\n{place}\nNamn: {name}\nKontakt: {reach}\n\n"
        "Vi sparar tiden, ditt förnamn och hur du vill bli kontaktad. Det raderas {retention} dagar efter mötet, "
        "eller direkt om du skriver {delete}. {contact_name} får se uppgifterna. Mer om det: {privacy}",
        "en": "Is this right?\n\nMeeting with {contact_name}\nTime: {when}\n{place}\nName: {name}\nContact: {reach}\n\n"
        "We store the time, your first name and how to reach you. It is deleted {retention} days after the meeting, "
        "or at once if you write {delete}. {contact_name} will see the details. More about this: {privacy}",
    },
    "name_none": {"sv": "(inget namn)", "en": "(no name)"},
    "reach_chat": {"sv": "här i chatten", "en": "here in the chat"},
    "button_confirm": {"sv": "Ja, boka", "en": "Yes, book it"},
    "booked": {
        "sv": "Klart! Du har ett möte med {contact_name} {when}. {place}\n\n"
        "{reminder} Vill du avboka eller flytta: skriv {mybookings}.",
        "en": "Done! You have a meeting with {contact_name} on {when}. {place}\n\n"
        "{reminder} To cancel or move it: write {mybookings}.",
    },
    "reminder_chat": {
        "sv": "Du får en påminnelse här dagen före.",
        "en": "You will get a reminder here the day before.",
    },
    "reminder_calendar": {
        "sv": "Spara kalenderfilen: den påminner dig en timme före mötet.",
        "en": "Save the calendar file: it reminds you an hour before the meeting.",
    },
    "phone_needed": {
        "sv": "{contact_name} ringer upp dig på den bokade tiden.",
        "en": "{contact_name} will call you at the booked time.",
    },
    "slot_taken": {
        "sv": "Tyvärr hann någon annan boka den tiden. Här är nästa lediga tider:",
        "en": "Sorry, someone else just booked that time. Here are the next free times:",
    },
    "my_bookings": {
        "sv": "Dina bokade möten:",
        "en": "Your booked meetings:",
    },
    "no_bookings": {
        "sv": "Du har inga bokade möten. Vill du boka ett?",
        "en": "You have no booked meetings. Do you want to book one?",
    },
    "button_cancel_booking": {"sv": "Avboka {when}", "en": "Cancel {when}"},
    "button_move_booking": {"sv": "Flytta {when}", "en": "Move {when}"},
    "confirm_cancel": {
        "sv": "Vill du avboka mötet {when}?",
        "en": "Do you want to cancel the meeting on {when}?",
    },
    "button_yes_cancel": {"sv": "Ja, avboka", "en": "Yes, cancel it"},
    "button_no_keep": {"sv": "Nej, behåll", "en": "No, keep it"},
    "booking_cancelled": {
        "sv": "Mötet {when} är avbokat. {contact_name} får veta det.",
        "en": "The meeting on {when} is cancelled. {contact_name} will be told.",
    },
    "kept": {"sv": "Okej, mötet är kvar.", "en": "All right, the meeting stays."},
    "move_choose": {
        "sv": "Välj en ny tid för mötet {when}:",
        "en": "Choose a new time for the meeting on {when}:",
    },
    "confirm_move": {
        "sv": "Flytta mötet från {old} till {when}?",
        "en": "Move the meeting from {old} to {when}?",
    },
    "button_yes_move": {"sv": "Ja, flytta", "en": "Yes, move it"},
    "booking_moved": {
        "sv": "Klart! Mötet är flyttat till {when}. {contact_name} får veta det.",
        "en": "Done! The meeting is moved to {when}. {contact_name} will be told.",
    },
    # --- personal data ---------------------------------------------------------------------------
    "confirm_delete": {
        "sv": "Vill du att jag raderar allt om den här chatten? Det gäller dina val, var vi är i samtalet och "
        "dina bokade möten (de avbokas). Det går inte att ångra.",
        "en": "Do you want me to delete everything about this chat? That means your choices, where we are in "
        "the conversation and your booked meetings (they will be cancelled). This cannot be undone.",
    },
    "button_yes_delete": {"sv": "Ja, radera allt", "en": "Yes, delete everything"},
    "button_no": {"sv": "Nej", "en": "No"},
    "deleted": {
        "sv": "Klart. Allt om den här chatten är raderat. Skriv något om du vill börja om.",
        "en": "Done. Everything about this chat is deleted. Write anything if you want to start again.",
    },
    "not_deleted": {"sv": "Okej, inget är raderat.", "en": "All right, nothing was deleted."},
    # --- reminders and notifications (sent by the channel, written here so that both languages exist) ---
    "reminder": {
        "sv": "Påminnelse: du har ett möte med {contact_name} {when}. {place}",
        "en": "Reminder: you have a meeting with {contact_name} on {when}. {place}",
    },
}

# Said in a crisis only if the content's crisis file is missing (load_content refuses that; a safety net).
CRISIS_FALLBACK = {
    "sv": "Är någon i fara: ring 112. Självmordslinjen: 90101. Kvinnofridslinjen: 020-50 50 50. Vård: 1177.",
    "en": "If someone is in danger: call 112. Suicide line: 90101. Kvinnofridslinjen: 020-50 50 50. Health care: 1177.",
}

LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}
WEEKDAY_NAMES = {
    "sv": ("mån", "tis", "ons", "tors", "fre", "lör", "sön"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
MONTH_NAMES = {
    "sv": ("jan", "feb", "mars", "april", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

# Short messages that are not questions: answered kindly, never sent to the matcher.
SMALL_TALK = {
    "greeting": frozenset(
        "hej hejsan hallå halla tja tjena tjenare hallo god morgon goddag hi hello hey hiya good morning yo".split()
    ),
    "thanks": frozenset("tack tackar tusen tack tack så mycket thanks thank you thx ty tnx".split()),
    "bye": frozenset("hej då hejdå hejda adjö bye goodbye see you ses vi hörs".split()),
    "ok": frozenset("ok okej okay oki okey k kk bra fint toppen perfekt super great fine good nice cool "
                    "alright jaha aha ja yes yeah japp".split()),
}


# Commands as a person can reach them without slash commands (the web chat): the words they can write.
COMMAND_WORDS: dict[str, dict[str, str]] = {
    "mybookings": {"sv": "mina bokningar", "en": "my bookings"},
    "delete": {"sv": "radera mina uppgifter", "en": "delete my data"},
    "privacy": {"sv": "integritet", "en": "privacy"},
    "language": {"sv": "byt språk", "en": "change language"},
    "menu": {"sv": "meny", "en": "menu"},
    "book": {"sv": "boka möte", "en": "book a meeting"},
    "help": {"sv": "hjälp", "en": "help"},
    "region": {"sv": "byt kommun", "en": "change municipality"},
}


def command_hint(name: str, lang: str, has_commands: bool) -> str:
    """'/mybookings' where the channel has commands, else the quoted words that do the same."""
    if has_commands:
        return f"/{name}"
    return f"\"{COMMAND_WORDS[name][lang]}\""


def text(key: str, lang: str, **values: object) -> str:
    """The text `key` in `lang`, with {values} filled in."""
    table = TEXTS[key]
    template = table.get(lang) or table["sv" if lang.startswith("sv") else "en"]  # a language without texts yet
    return template.format(**values) if values else template
