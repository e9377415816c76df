//! What a message says, in English, German and Spanish: the subject, the
//! body of an email, and one short text for an SMS.

use super::{Notice, NoticeKind};

struct Words {
    subject_arrived: &'static str,
    subject_reminder: &'static str,
    subject_extended: &'static str,
    subject_outage: &'static str,
    hello: &'static str,
    arrived: &'static str,
    reminder: &'static str,
    extended: &'static str,
    outage: &'static str,
    pin: &'static str,
    qr: &'static str,
    no_code: &'static str,
    deadline: &'static str,
    place: &'static str,
    parcels: &'static str,
    keep_secret: &'static str,
    sms_arrived: &'static str,
    sms_reminder: &'static str,
    sms_extended: &'static str,
    sms_outage: &'static str,
    sms_code: &'static str,
}

const EN: Words = Words {
    subject_arrived: "Your parcel is ready at {locker}",
    subject_reminder: "Reminder: your parcel waits at {locker} until {deadline}",
    subject_extended: "More time for your parcel at {locker}",
    subject_outage: "More time for your parcel: {locker} was out of order",
    hello: "Hello {name},",
    arrived: "your parcel has arrived and waits for you in the locker.",
    reminder: "your parcel is still waiting for you in the locker. After the deadline it goes back to the sender.",
    extended: "you have more time to collect your parcel.",
    outage: "the locker could not hand out parcels for a while. You get that time back: your parcel waits for you until the new deadline.",
    pin: "Your pickup code: {pin}",
    qr: "Type it on the locker's screen, or show it the QR code below.",
    no_code: "Open the locker with the code we sent you when your parcel arrived.",
    deadline: "Collect by: {deadline}",
    place: "Where: {place}",
    parcels: "Parcels:",
    keep_secret: "Keep this code to yourself: it opens the door of your parcel.",
    sms_arrived: "{locker}: your parcel is ready.",
    sms_reminder: "{locker}: your parcel waits until {deadline}.",
    sms_extended: "{locker}: you can collect your parcel until {deadline}.",
    sms_outage: "{locker} was out of order for a while: you can collect your parcel until {deadline}.",
    sms_code: "Code {pin}.",
};

const DE: Words = Words {
    subject_arrived: "Ihr Paket liegt bereit: {locker}",
    subject_reminder: "Erinnerung: Ihr Paket wartet bis {deadline} ({locker})",
    subject_extended: "Mehr Zeit für Ihr Paket ({locker})",
    subject_outage: "Mehr Zeit für Ihr Paket: {locker} war außer Betrieb",
    hello: "Guten Tag {name},",
    arrived: "Ihr Paket ist angekommen und wartet im Schließfach auf Sie.",
    reminder: "Ihr Paket wartet noch im Schließfach. Nach Ablauf der Frist geht es an den Absender zurück.",
    extended: "Sie haben mehr Zeit, Ihr Paket abzuholen.",
    outage: "das Schließfach konnte eine Zeit lang keine Pakete ausgeben. Diese Zeit bekommen Sie zurück: Ihr Paket wartet bis zur neuen Frist auf Sie.",
    pin: "Ihr Abholcode: {pin}",
    qr: "Geben Sie ihn am Bildschirm des Schließfachs ein oder zeigen Sie ihm den QR-Code unten.",
    no_code: "Öffnen Sie das Fach mit dem Code, den wir Ihnen bei der Ankunft geschickt haben.",
    deadline: "Abholen bis: {deadline}",
    place: "Wo: {place}",
    parcels: "Sendungen:",
    keep_secret: "Geben Sie diesen Code nicht weiter: Er öffnet das Fach mit Ihrem Paket.",
    sms_arrived: "{locker}: Ihr Paket liegt bereit.",
    sms_reminder: "{locker}: Ihr Paket wartet bis {deadline}.",
    sms_extended: "{locker}: Sie können Ihr Paket bis {deadline} abholen.",
    sms_outage: "{locker} war eine Zeit lang außer Betrieb: Sie können Ihr Paket bis {deadline} abholen.",
    sms_code: "Code {pin}.",
};

const ES: Words = Words {
    subject_arrived: "Su paquete está listo en {locker}",
    subject_reminder: "Recordatorio: su paquete le espera en {locker} hasta {deadline}",
    subject_extended: "Más tiempo para su paquete en {locker}",
    subject_outage: "Más tiempo para su paquete: {locker} estuvo fuera de servicio",
    hello: "Hola, {name}:",
    arrived: "su paquete ha llegado y le espera en la taquilla.",
    reminder: "su paquete sigue esperándole en la taquilla. Pasado el plazo, vuelve al remitente.",
    extended: "tiene más tiempo para recoger su paquete.",
    outage: "la taquilla no pudo entregar paquetes durante un tiempo. Le devolvemos ese tiempo: su paquete le espera hasta el nuevo plazo.",
    pin: "Su código de recogida: {pin}",
    qr: "Escríbalo en la pantalla de la taquilla o muéstrele el código QR de abajo.",
    no_code: "Abra la taquilla con el código que le enviamos cuando llegó su paquete.",
    deadline: "Recoger antes de: {deadline}",
    place: "Dónde: {place}",
    parcels: "Envíos:",
    keep_secret: "No comparta este código: abre la puerta de su paquete.",
    sms_arrived: "{locker}: su paquete está listo.",
    sms_reminder: "{locker}: su paquete le espera hasta {deadline}.",
    sms_extended: "{locker}: puede recoger su paquete hasta {deadline}.",
    sms_outage: "{locker} estuvo fuera de servicio un tiempo: puede recoger su paquete hasta {deadline}.",
    sms_code: "Código {pin}.",
};

fn words(language: &str) -> &'static Words {
    match language {
        "de" => &DE,
        "es" => &ES,
        _ => &EN,
    }
}

/// Fills `{locker}`, `{deadline}`, `{name}`, `{pin}` and `{place}`.
fn fill(template: &str, notice: &Notice) -> String {
    let deadline = notice
        .deadline
        .as_ref()
        .map_or("", |(_, text)| text.as_str());
    let place = match &notice.address {
        Some(address) => format!("{}, {address}", notice.locker_name),
        None => notice.locker_name.clone(),
    };
    template
        .replace("{locker}", &notice.locker_name)
        .replace("{deadline}", deadline)
        .replace("{name}", &notice.recipient_name)
        .replace("{pin}", notice.code.as_ref().map_or("", |c| c.pin.as_str()))
        .replace("{place}", &place)
}

pub fn subject(notice: &Notice) -> String {
    let w = words(&notice.language);
    let template = match notice.kind {
        NoticeKind::Arrived => w.subject_arrived,
        NoticeKind::Reminder if notice.deadline.is_some() => w.subject_reminder,
        NoticeKind::Reminder => w.subject_arrived,
        NoticeKind::DeadlineExtended => w.subject_extended,
        NoticeKind::OutageCredited => w.subject_outage,
    };
    fill(template, notice)
}

/// The email's text, paragraph by paragraph; the QR sentence only when a
/// code goes with it.
pub fn body(notice: &Notice) -> Vec<String> {
    let w = words(&notice.language);
    let mut lines = vec![fill(w.hello, notice)];
    lines.push(fill(
        match notice.kind {
            NoticeKind::Arrived => w.arrived,
            NoticeKind::Reminder => w.reminder,
            NoticeKind::DeadlineExtended => w.extended,
            NoticeKind::OutageCredited => w.outage,
        },
        notice,
    ));
    match &notice.code {
        Some(_) => {
            lines.push(fill(w.pin, notice));
            lines.push(w.qr.into());
        }
        None => lines.push(w.no_code.into()),
    }
    if notice.deadline.is_some() {
        lines.push(fill(w.deadline, notice));
    }
    lines.push(fill(w.place, notice));
    if !notice.trackings.is_empty() {
        lines.push(format!("{}\n{}", w.parcels, notice.trackings.join("\n")));
    }
    if notice.code.is_some() {
        lines.push(w.keep_secret.into());
    }
    if let Some(support) = &notice.support {
        lines.push(support.clone());
    }
    lines
}

/// One SMS: the news, the code when it goes with it.
pub fn short(notice: &Notice) -> String {
    let w = words(&notice.language);
    let lead = match notice.kind {
        NoticeKind::Arrived => w.sms_arrived,
        NoticeKind::Reminder => w.sms_reminder,
        NoticeKind::DeadlineExtended => w.sms_extended,
        NoticeKind::OutageCredited => w.sms_outage,
    };
    let mut text = fill(lead, notice);
    if notice.code.is_some() {
        text.push(' ');
        text.push_str(&fill(w.sms_code, notice));
    }
    if notice.kind == NoticeKind::Arrived && notice.deadline.is_some() {
        text.push(' ');
        text.push_str(&fill(w.deadline, notice));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Code;

    fn notice(language: &str, kind: NoticeKind, code: bool) -> Notice {
        Notice {
            message: 7,
            kind,
            locker_id: "main-1".into(),
            locker_name: "Main Street 1".into(),
            address: Some("1 Main Street".into()),
            support: None,
            recipient_name: "Alice Adams".into(),
            email: Some("alice@example.org".into()),
            phone: None,
            language: language.into(),
            code: code.then(|| Code {
                pin: "583920".into(),
                qr: "LK1:main-1:TOKEN".into(),
            }),
            deadline: Some((0, "2026-12-05 18:00".into())),
            trackings: vec!["1Z999AA10123456784".into()],
        }
    }

    #[test]
    fn a_message_with_a_code_says_it_and_asks_to_keep_it_secret() {
        let body = body(&notice("en", NoticeKind::Arrived, true)).join("\n\n");
        assert!(body.starts_with("Hello Alice Adams,"), "{body}");
        assert!(body.contains("Your pickup code: 583920"), "{body}");
        assert!(body.contains("Collect by: 2026-12-05 18:00"), "{body}");
        assert!(body.contains("Main Street 1, 1 Main Street"), "{body}");
        assert!(body.contains("1Z999AA10123456784"), "{body}");
        assert!(body.contains("Keep this code to yourself"), "{body}");
    }

    #[test]
    fn a_reminder_without_its_code_points_to_the_first_message() {
        let reminder = notice("de", NoticeKind::Reminder, false);
        assert_eq!(
            subject(&reminder),
            "Erinnerung: Ihr Paket wartet bis 2026-12-05 18:00 (Main Street 1)"
        );
        let body = body(&reminder).join("\n");
        assert!(body.contains("mit dem Code, den wir Ihnen"), "{body}");
        assert!(!body.contains("583920"));
    }

    #[test]
    fn every_language_fills_every_placeholder() {
        for language in ["en", "de", "es"] {
            for kind in [
                NoticeKind::Arrived,
                NoticeKind::Reminder,
                NoticeKind::DeadlineExtended,
            ] {
                for code in [true, false] {
                    let n = notice(language, kind, code);
                    let all = format!("{}\n{}\n{}", subject(&n), body(&n).join("\n"), short(&n));
                    assert!(!all.contains('{'), "{language} {kind:?}: {all}");
                }
            }
        }
        assert_eq!(
            short(&notice("es", NoticeKind::Arrived, true)),
            "Main Street 1: su paquete está listo. Código 583920. Recoger antes de: 2026-12-05 18:00"
        );
    }
}
